#include <pybind11/stl.h>

#include <array>
#include <stdexcept>

#include "bindings.h"
#include "facekit/draw.h"

namespace facekit::bindings {

void register_draw(py::module_& m) {
    m.def("points",
          [](py::array image, const py::array& points, const std::array<int, 3>& rgb,
             int radius) {
              if (image.dtype().kind() != 'u' || image.dtype().itemsize() != 1 ||
                  image.ndim() != 3 || image.shape(2) != 3 || image.strides(2) != 1 ||
                  image.strides(1) != 3)
                  throw std::invalid_argument("draw target must be a packed HxWx3 uint8 image");
              if (!image.writeable()) throw std::invalid_argument("draw target is read-only");
              if (points.dtype().kind() != 'f' || points.dtype().itemsize() != 4 ||
                  points.ndim() != 2 || points.shape(1) < 2 ||
                  points.strides(1) != 4 || points.strides(0) % 4 != 0)
                  throw std::invalid_argument("points must be a float32 (N, 2+) array");
              if (radius < 0 || radius > 64) throw std::invalid_argument("radius must be 0..64");
              std::uint8_t color[3];
              for (int c = 0; c < 3; ++c) {
                  if (rgb[c] < 0 || rgb[c] > 255) throw std::invalid_argument("colour is 0..255");
                  color[c] = static_cast<std::uint8_t>(rgb[c]);
              }
              auto* data = static_cast<std::uint8_t*>(image.mutable_data());
              const auto* xy = static_cast<const float*>(points.data());
              py::gil_scoped_release release;
              draw_points(data, static_cast<int>(image.shape(1)), static_cast<int>(image.shape(0)),
                          image.strides(0), xy, static_cast<int>(points.shape(0)),
                          static_cast<int>(points.strides(0) / 4), color, radius);
          },
          py::arg("image"), py::arg("points"), py::arg("rgb"), py::arg("radius"),
          "Paint discs at (x, y) points onto an RGB image in place.");
}

}  // namespace facekit::bindings
