#include "bindings.h"
#include "facekit/process.h"

namespace facekit::bindings {

void register_process(py::module_& m) {
    m.def("harden", [] {
        const Hardening h = harden_process();
        py::dict d;
        d["core_dumps_off"] = h.core_dumps_off;
        d["not_dumpable"] = h.not_dumpable;
        return d;
    });
    m.def("wipe_stack", &wipe_stack, py::arg("bytes"),
          "Zero this many bytes of the calling thread's stack below the caller's frame.");
    m.def("wipe_thread_cache", &wipe_thread_cache,
          "Zero the chunks glibc's per-thread cache holds for the calling thread (small freed "
          "buffers it does not perturb); returns how many (0 where not glibc).");
    m.def("set_free_perturb", &set_free_perturb, py::arg("byte"),
          "glibc M_PERTURB: free() fills released chunks with `byte` (0: off). False if unsupported.");
}

}  // namespace facekit::bindings
