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
}

}  // namespace facekit::bindings
