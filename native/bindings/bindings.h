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
void register_fusion(py::module_& m);
void register_anonymize(py::module_& m);
void register_verify(py::module_& m);
void register_video(py::module_& m);
void register_portrait(py::module_& m);

// Argument checks (bindings.cpp): each throws std::invalid_argument naming the argument and
// the problem, and borrows the array without copying.

// "gray", "rgb", "bgr", "rgba" or "bgra"; std::invalid_argument for anything else.
PixelFormat format_from_name(const std::string& name);

// The array's shape as text, dimensions joined by `separator` ("x" or ", ").
std::string dims(const py::array& a, const char* separator);

// A uint8 image (rows may have any stride; pixels packed): dtype, shape, empty, too large.
ImageView image_view(const py::array& image, const std::string& format_name);

// The same, for an image the call writes into: also refuses a read-only array.
ImageView writable_image_view(const py::array& image, const std::string& format_name,
                              const char* name);

// A float32 (N, 2+) array of points read in place (x, y first; rows `stride` floats apart),
// with at least `min_rows` rows.
struct PointRows {
    const float* data;
    int count;
    int stride;
};
PointRows point_rows(const py::array& points, const char* name, int min_rows = 0);

// A float32 array (native byte order, C-contiguous, aligned) of any shape.
const float* contiguous_floats(const py::array& a, const char* name);

// The same, holding exactly `count` values whatever its shape (a network output).
const float* float_values(const py::array& a, const char* name, py::ssize_t count);

// The owner (numpy base) of an array over arena memory at `data`: a capsule holding the arena's
// handle on the region `data` lies in (Arena::hold). The region stays mapped while the array
// lives, and once the frame ends it is retired rather than reused, so the array reads zeros
// for ever: nothing dangles, and no later frame shows through.
py::capsule region_owner(const Arena& arena, const void* data);

// A read-only array over arena memory, owned by its region (see region_owner).
template <typename T>
py::array_t<T> arena_array(const Arena& arena, const T* data,
                           const std::vector<py::ssize_t>& shape) {
    py::array_t<T> view(shape, data, region_owner(arena, data));
    // Views are read-only: results are facts about one frame, not buffers to edit.
    py::detail::array_proxy(view.ptr())->flags &= ~py::detail::npy_api::NPY_ARRAY_WRITEABLE_;
    return view;
}

// The usual case: a read-only float32 view.
inline py::array_t<float> arena_view(const Arena& arena, const float* data,
                                     const std::vector<py::ssize_t>& shape) {
    return arena_array<float>(arena, data, shape);
}

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
