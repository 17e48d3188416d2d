#include "facekit/process.h"

#include <alloca.h>

#include <cstdint>
#include <cstring>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace facekit {

Hardening harden_process() noexcept {
    Hardening result{};
    const rlimit none{0, 0};
    result.core_dumps_off = setrlimit(RLIMIT_CORE, &none) == 0;
    result.not_dumpable = prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) == 0;
    return result;
}

// noinline: the buffer must lie below this function's caller, where the dead frames are.
__attribute__((noinline)) void wipe_stack(std::size_t bytes) noexcept {
    void* dead = alloca(bytes);
    explicit_bzero(dead, bytes);
    asm volatile("" : : "r"(dead) : "memory");  // the zeroing is the point: keep it
}

std::size_t wipe_thread_cache() noexcept {
#if defined(__GLIBC__)
    // Chunk sizes 32..1040 bytes in steps of 16 (64-bit glibc): usable sizes 24..1032.
    constexpr std::size_t kFirst = 24, kLast = 1032, kStep = 16, kDepth = 7;
    void* held[((kLast - kFirst) / kStep + 1) * kDepth];
    std::size_t count = 0;
    for (std::size_t usable = kFirst; usable <= kLast; usable += kStep) {
        for (std::size_t k = 0; k < kDepth; ++k) {
            void* chunk = malloc(usable);
            if (chunk == nullptr) break;
            held[count++] = chunk;  // freed below in any case
            // A cached chunk starts with the cache's link (glibc >= 2.32 stores it mangled
            // with the chunk's own address: never 0); a zero word means the chunk was carved
            // from the heap's top, so this size's cache is empty: stop before touching more
            // fresh memory (page faults cost more than the wipe itself).
            std::uint64_t link;
            std::memcpy(&link, chunk, sizeof link);
            if (link == 0) break;
            explicit_bzero(chunk, malloc_usable_size(chunk));
        }
    }
    for (std::size_t i = 0; i < count; ++i) free(held[i]);
    return count;
#else
    return 0;
#endif
}

bool set_free_perturb(int byte) noexcept {
#if defined(__GLIBC__) && defined(M_PERTURB)
    return mallopt(M_PERTURB, byte) == 1;
#else
    (void)byte;
    return false;
#endif
}

}  // namespace facekit
