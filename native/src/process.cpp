#include "facekit/process.h"

#include <sys/prctl.h>
#include <sys/resource.h>

namespace facekit {

Hardening harden_process() noexcept {
    Hardening result{};
    const rlimit none{0, 0};
    result.core_dumps_off = setrlimit(RLIMIT_CORE, &none) == 0;
    result.not_dumpable = prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) == 0;
    return result;
}

}  // namespace facekit
