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
              const ImageView target = writable_image_view(image, "rgb", "draw target");
              const PointRows xy = point_rows(points, "points");
              if (radius < 0 || radius > 64) throw std::invalid_argument("radius must be 0..64");
              std::uint8_t color[3];
              for (int c = 0; c < 3; ++c) {
                  if (rgb[c] < 0 || rgb[c] > 255) throw std::invalid_argument("colour is 0..255");
                  color[c] = static_cast<std::uint8_t>(rgb[c]);
              }
              auto* data = static_cast<std::uint8_t*>(image.mutable_data());
              py::gil_scoped_release release;
              draw_points(data, target.width, target.height, target.stride, xy.data, xy.count,
                          xy.stride, color, radius);
          },
          py::arg("image"), py::arg("points"), py::arg("rgb"), py::arg("radius"),
          "Paint discs at (x, y) points onto an RGB image in place.");
}

}  // namespace facekit::bindings
