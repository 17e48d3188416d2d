#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>

#include "check.h"
#include "facekit/dispatch.h"

namespace facekit::testing {

std::vector<Case>& registry() {
    static std::vector<Case> cases;
    return cases;
}

namespace {
int g_failures_in_case = 0;
}

void fail(const char* file, int line, const std::string& what) {
    ++g_failures_in_case;
    std::fprintf(stderr, "  %s:%d: %s\n", file, line, what.c_str());
}

}  // namespace facekit::testing

// Usage: facekit_native_tests [substring]  — runs the cases whose name contains it.
int main(int argc, char** argv) {
    using namespace facekit::testing;
    const char* filter = argc > 1 ? argv[1] : nullptr;
    const auto& f = facekit::cpu_features();
    std::printf("arch %s; sse4.1 %d avx2 %d fma %d neon %d; available paths:", f.arch.c_str(),
                f.sse41, f.avx2, f.fma, f.neon);
    for (facekit::Isa isa : facekit::available_isas()) std::printf(" %s", facekit::isa_name(isa));
    std::printf("\n");
    int passed = 0, failed = 0, skipped = 0;
    for (const Case& c : registry()) {
        if (filter && std::strstr(c.name, filter) == nullptr) continue;
        g_failures_in_case = 0;
        try {
            c.body();
        } catch (const Skip& s) {
            std::printf("skip %s: %s\n", c.name, s.reason.c_str());
            ++skipped;
            continue;
        } catch (const Abort&) {
        } catch (const std::exception& e) {
            fail(__FILE__, __LINE__, std::string("unexpected exception: ") + e.what());
        }
        std::printf("%s %s\n", g_failures_in_case ? "FAIL" : "ok  ", c.name);
        (g_failures_in_case ? failed : passed)++;
    }
    std::printf("%d passed, %d failed, %d skipped\n", passed, failed, skipped);
    // CI sets this, as for pytest: there every case can run, so a skip is a check not made.
    const char* require = std::getenv("FACEKIT_REQUIRE_ORACLES");
    if (skipped > 0 && require != nullptr && std::strcmp(require, "1") == 0) {
        std::printf("FACEKIT_REQUIRE_ORACLES=1: %d skipped case(s) count as failures\n", skipped);
        return 1;
    }
    return failed == 0 && passed > 0 ? 0 : 1;
}
