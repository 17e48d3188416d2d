#include "facekit/process.h"

#include <alloca.h>
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

bool set_free_perturb(int byte) noexcept {
#if defined(__GLIBC__) && defined(M_PERTURB)
    return mallopt(M_PERTURB, byte) == 1;
#else
    (void)byte;
    return false;
#endif
}

}  // namespace facekit
