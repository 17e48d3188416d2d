// facekit._native: private extension module. The public API is the Python package around it.
#include "bindings.h"

PYBIND11_MODULE(_native, m) {
    m.doc() = "facekit's native core (private; use the facekit package)";
    auto arena = m.def_submodule("arena", "Secure frame arena");
    auto cpu = m.def_submodule("cpu", "CPU features and SIMD dispatch");
    auto warp = m.def_submodule("warp", "Affine crops and the fused crop + normalize kernel");
    facekit::bindings::register_arena(arena);
    facekit::bindings::register_cpu(cpu);
    facekit::bindings::register_warp(warp);
}
