// One register_<area> per bind_<area>.cpp; module.cpp only assembles submodules.
#pragma once
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <memory>
#include <string>
#include <vector>

#include "facekit/arena.h"
#include "facekit/image.h"

namespace facekit::bindings {

namespace py = pybind11;

void register_arena(py::module_& m);
void register_cpu(py::module_& m);
void register_warp(py::module_& m);
void register_detection(py::module_& m);
void register_landmarks(py::module_& m);
void register_draw(py::module_& m);
void register_process(py::module_& m);
void register_beauty(py::module_& m);
void register_anonymize(py::module_& m);
void register_verify(py::module_& m);

// "gray", "rgb", "bgr", "rgba" or "bgra"; std::invalid_argument for anything else.
PixelFormat format_from_name(const std::string& name);

// Borrows a numpy uint8 image without copying (rows may have any stride; pixels packed);
// std::invalid_argument naming the problem (dtype, shape, empty, too large).
ImageView image_view(const py::array& image, const std::string& format_name);

// A read-only float32 array over arena memory. The array's base is the Python Arena object, so
// the arena (and its mapping) lives as long as any view of it: a view never dangles, and after a
// wipe it reads zeros.
py::array_t<float> arena_view(const py::object& arena_owner, float* data,
                              const std::vector<py::ssize_t>& shape);

// Native objects own memory or parsed models that have no byte form, so pickle and copy must
// refuse them. Without this, protocols 0 and 1 go through copyreg._reduce_ex, which calls the
// pybind11 base type on the object and aborts the interpreter.
template <typename Class>
Class refuse_pickling(Class cls) {
    const std::string name = py::str(cls.attr("__name__"));
    cls.def("__reduce_ex__", [name](const py::object&, const py::object&) -> py::object {
        throw py::type_error(name + " holds native resources and cannot be pickled or copied");
    });
    return cls;
}

}  // namespace facekit::bindings
