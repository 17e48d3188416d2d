// Process-wide hardening an app may opt into: no core dumps, not ptrace-attachable.
#pragma once

namespace facekit {

struct Hardening {
    bool core_dumps_off;  // RLIMIT_CORE set to 0 (soft and hard)
    bool not_dumpable;    // prctl(PR_SET_DUMPABLE, 0): no core, no ptrace by same-uid peers
};

// Applies both; reports which took. Irreversible for the hard limit, by design.
Hardening harden_process() noexcept;

}  // namespace facekit
