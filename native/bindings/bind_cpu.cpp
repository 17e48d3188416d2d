#include <pybind11/stl.h>

#include "bindings.h"
#include "facekit/dispatch.h"

namespace facekit::bindings {

void register_cpu(py::module_& m) {
    m.def("features", [] {
        const CpuFeatures& f = cpu_features();
        py::dict d;
        d["arch"] = f.arch;
        d["sse41"] = f.sse41;
        d["avx2"] = f.avx2;
        d["fma"] = f.fma;
        d["neon"] = f.neon;
        return d;
    });
    m.def("compiled", [] {
        std::vector<std::string> out;
        for (int i = 0; i < kIsaCount; ++i) {
            if (isa_compiled(static_cast<Isa>(i))) out.push_back(isa_name(static_cast<Isa>(i)));
        }
        return out;
    });
    m.def("available", [] {
        std::vector<std::string> out;
        for (Isa isa : available_isas()) out.push_back(isa_name(isa));
        return out;
    });
    m.def("active", [] { return std::string(isa_name(active_isa())); },
          "The SIMD path in use; settles it on first call (ValueError if FACEKIT_SIMD is bad).");
    m.def("forced_by_environment", &isa_forced_by_environment);
    m.def("force", [](const std::string& name) { force_isa(isa_from_name(name)); },
          "Override the path for this process (tests and benchmarks).");
    m.def("kernel_calls", [] {
        py::dict d;
        for (int i = 0; i < kIsaCount; ++i)
            d[isa_name(static_cast<Isa>(i))] = kernel_calls(static_cast<Isa>(i));
        return d;
    });
}

}  // namespace facekit::bindings
