#include <pybind11/stl.h>

#include <stdexcept>
#include <string>

#include "bindings.h"
#include "facekit/process.h"
#include "facekit/verify.h"

namespace facekit::bindings {

namespace {

void check_points(const py::array& points, int minimum, const char* what) {
    if (points.dtype().kind() != 'f' || points.dtype().itemsize() != 4 || points.ndim() != 2 ||
        points.shape(1) < 2 || points.strides(1) != 4 || points.strides(0) % 4 != 0 ||
        points.shape(0) < minimum)
        throw std::invalid_argument(std::string(what) + " must be a float32 (N >= " +
                                    std::to_string(minimum) + ", 2+) array");
}

}  // namespace

void register_verify(py::module_& m) {
    m.def("chip",
          [](const py::array& image, const std::string& format, const py::array& landmarks,
             const py::object& arena_owner, int size, double padding, bool raw) {
              const ImageView view = image_view(image, format);
              check_points(landmarks, 468, "landmarks");
              const auto* data = static_cast<const float*>(landmarks.data());
              const py::ssize_t stride = landmarks.strides(0) / 4;
              double points[5][2];
              for (int i = 0; i < 5; ++i) {
                  points[i][0] = data[kChipPoints[i] * stride];
                  points[i][1] = data[kChipPoints[i] * stride + 1];
              }
              auto& arena = arena_owner.cast<Arena&>();
              std::uint8_t* chip = nullptr;
              float* tensor = nullptr;
              {
                  py::gil_scoped_release release;
                  chip = face_chip(view, points, size, padding, arena);
                  if (!raw) {
                      tensor = arena.allocate_array<float>(static_cast<std::size_t>(size) * size * 3);
                      normalize_chip(chip, size, tensor);
                  }
                  wipe_stack(16 << 10);  // the five points and the transform sat there
              }
              if (raw) {
                  py::array_t<std::uint8_t> view_u8({py::ssize_t{size}, py::ssize_t{size}, py::ssize_t{3}},
                                                    chip, arena_owner);
                  py::detail::array_proxy(view_u8.ptr())->flags &= ~py::detail::npy_api::NPY_ARRAY_WRITEABLE_;
                  return py::object(view_u8);
              }
              return py::object(arena_view(arena_owner, tensor, {1, size, size, 3}));
          },
          py::arg("image"), py::arg("format"), py::arg("landmarks"), py::arg("arena"),
          py::arg("size") = 150, py::arg("padding") = 0.25, py::arg("raw") = false,
          "dlib's aligned face chip from the mesh, in the arena: the network's normalized "
          "float32 (1, size, size, 3) input, or with raw=True the 8-bit chip.");
    m.def("distance",
          [](const py::array& a, const py::array& b) {
              // Read in place (views into the arena may have padded rows): no copy is made.
              auto flat = [](const py::array& x, const char* name) {
                  if (x.dtype().kind() != 'f' || x.dtype().itemsize() != 4 || x.size() == 0 ||
                      (x.ndim() == 2 && x.shape(0) != 1) || x.ndim() > 2 ||
                      x.strides(x.ndim() - 1) != 4)
                      throw std::invalid_argument(std::string(name) +
                                                  " must be a float32 (N,) or (1, N) array");
                  return std::make_pair(static_cast<const float*>(x.data()),
                                        static_cast<int>(x.shape(x.ndim() - 1)));
              };
              const auto [pa, na] = flat(a, "a");
              const auto [pb, nb] = flat(b, "b");
              if (na != nb) throw std::invalid_argument("descriptors differ in length");
              return descriptor_distance(pa, pb, na);
          },
          py::arg("a"), py::arg("b"), "Euclidean distance of two descriptors (a plain float).");
}

}  // namespace facekit::bindings
