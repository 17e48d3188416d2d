// Process-level protections: opt-in hardening for apps, and the primitives that clear what a
// third-party runtime (ONNX Runtime) leaves behind in memory facekit does not own.
#pragma once

#include <cstddef>

namespace facekit {

struct Hardening {
    bool core_dumps_off;  // RLIMIT_CORE set to 0 (soft and hard)
    bool not_dumpable;    // prctl(PR_SET_DUMPABLE, 0): no core, no ptrace by same-uid peers
};

// Applies both; reports which took. Irreversible for the hard limit, by design.
Hardening harden_process() noexcept;

// Zeroes `bytes` of the calling thread's stack below the caller's frame, where a call that has
// just returned left its spilled registers and temporaries.
void wipe_stack(std::size_t bytes) noexcept;

// glibc's M_PERTURB: while on, free() overwrites each released heap chunk with a filler byte,
// so a buffer freed by a library (and so beyond our reach) keeps no value. 0 turns it off.
// False where the C library has no such switch (not glibc).
bool set_free_perturb(int byte) noexcept;

// glibc's per-thread cache (tcache) keeps the last few freed chunks of each small size (up to
// 1032 bytes) and, unlike its other bins, does not perturb them: a network's small tensors (the
// attention mesh's 512-byte last activations) stay readable there. This takes every cached
// chunk of the calling thread out (malloc of each cached size, up to 7 deep: glibc's default
// count, stopping at the first chunk that is not from the cache), zeroes it and frees it
// again. Returns the number of chunks taken out (0 where not glibc).
std::size_t wipe_thread_cache() noexcept;

}  // namespace facekit
