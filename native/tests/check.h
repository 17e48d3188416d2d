// A minimal test harness (no third-party framework to fetch): TEST registers a case, CHECK
// records a failure and carries on, REQUIRE stops the case, SKIP ends it as not run (counted
// apart, and a failure under FACEKIT_REQUIRE_ORACLES=1). main() lives in test_main.cpp.
#pragma once
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <functional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "facekit/dispatch.h"

namespace facekit::testing {

struct Case {
    const char* name;
    std::function<void()> body;
};
std::vector<Case>& registry();
void fail(const char* file, int line, const std::string& what);
struct Abort {};  // thrown by REQUIRE to end the current case
struct Skip {     // thrown by SKIP: the case cannot run here (a fixture or tool is missing)
    std::string reason;
};

// SplitMix64: a small deterministic generator, the same on every platform.
struct Rng {
    std::uint64_t state;
    explicit Rng(std::uint64_t seed) : state(seed) {}
    std::uint64_t next() {
        std::uint64_t z = (state += 0x9E3779B97F4A7C15ull);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
        return z ^ (z >> 31);
    }
    int uniform_int(int lo, int hi) {  // inclusive
        return lo + static_cast<int>(next() % static_cast<std::uint64_t>(hi - lo + 1));
    }
    double uniform(double lo, double hi) {
        return lo + (hi - lo) * static_cast<double>(next() >> 11) * 0x1.0p-53;
    }
    std::uint8_t byte() { return static_cast<std::uint8_t>(next() >> 56); }
};

// memcpy and memcmp for ranges that may be empty: an empty std::vector's data() may be null, and
// the C functions require valid pointers even for 0 bytes (UBSan's nonnull-attribute check).
inline void copy_bytes(void* dst, const void* src, std::size_t bytes) {
    if (bytes != 0) std::memcpy(dst, src, bytes);
}
inline bool same_bytes(const void* a, const void* b, std::size_t bytes) {
    return bytes == 0 || std::memcmp(a, b, bytes) == 0;
}

struct Register {
    Register(const char* name, std::function<void()> body) { registry().push_back({name, body}); }
};

// Cases a kernel test has compared across every available SIMD path since its last report.
inline int g_compared = 0;

// Prints "N <what> compared on: <paths>" and starts the count over.
inline void report_compared(const char* what) {
    std::printf("  %d %s compared on:", g_compared, what);
    for (Isa isa : available_isas()) std::printf(" %s", isa_name(isa));
    std::printf("\n");
    g_compared = 0;
}

// `size` bytes between two PROT_NONE guard pages, flush against the guard after them (or, with
// flush_start, the one before them), so a kernel reading or writing outside them faults instead
// of passing silently.
class Guarded {
public:
    explicit Guarded(std::size_t size, bool flush_start = false) : size_(size) {
        const std::size_t page = static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
        const std::size_t body = std::max<std::size_t>((size + page - 1) / page * page, page);
        total_ = body + 2 * page;
        void* m = mmap(nullptr, total_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (m == MAP_FAILED) throw std::runtime_error("mmap failed");
        base_ = static_cast<std::uint8_t*>(m);
        mprotect(base_, page, PROT_NONE);
        mprotect(base_ + page + body, page, PROT_NONE);
        data_ = base_ + page + (flush_start ? 0 : body - size);
    }
    ~Guarded() { munmap(base_, total_); }
    Guarded(const Guarded&) = delete;
    Guarded& operator=(const Guarded&) = delete;
    std::uint8_t* bytes() { return data_; }
    template <typename T>
    T* as() { return reinterpret_cast<T*>(data_); }
    std::size_t size() const { return size_; }

private:
    std::uint8_t* base_;
    std::uint8_t* data_;
    std::size_t size_, total_;
};

}  // namespace facekit::testing

#define FK_CAT2(a, b) a##b
#define FK_CAT(a, b) FK_CAT2(a, b)
#define TEST(name)                                                                         \
    static void FK_CAT(test_, name)();                                                     \
    static ::facekit::testing::Register FK_CAT(register_, name)(#name, FK_CAT(test_, name)); \
    static void FK_CAT(test_, name)()

#define CHECK(cond)                                                                 \
    do {                                                                            \
        if (!(cond)) ::facekit::testing::fail(__FILE__, __LINE__, "CHECK(" #cond ")"); \
    } while (0)

#define CHECK_MSG(cond, msg)                                                              \
    do {                                                                                  \
        if (!(cond)) {                                                                    \
            std::ostringstream fk_os;                                                     \
            fk_os << "CHECK(" #cond ") " << msg;                                          \
            ::facekit::testing::fail(__FILE__, __LINE__, fk_os.str());                    \
        }                                                                                 \
    } while (0)

#define REQUIRE(cond)                                                                     \
    do {                                                                                  \
        if (!(cond)) {                                                                    \
            ::facekit::testing::fail(__FILE__, __LINE__, "REQUIRE(" #cond ")");           \
            throw ::facekit::testing::Abort{};                                            \
        }                                                                                 \
    } while (0)

#define SKIP(reason) throw ::facekit::testing::Skip{reason}

#define CHECK_THROWS_AS(expr, type)                                                        \
    do {                                                                                   \
        bool fk_thrown = false;                                                            \
        try {                                                                              \
            (void)(expr);                                                                  \
        } catch (const type&) {                                                            \
            fk_thrown = true;                                                              \
        } catch (...) {                                                                    \
        }                                                                                  \
        if (!fk_thrown)                                                                    \
            ::facekit::testing::fail(__FILE__, __LINE__, "expected " #type " from " #expr); \
    } while (0)
