#include <pybind11/stl.h>

#include <array>
#include <stdexcept>
#include <string>

#include "bindings.h"
#include "facekit/anonymize.h"

namespace facekit::bindings {

void register_anonymize(py::module_& m) {
    m.def("cover",
          [](py::array image, const std::array<int, 4>& box, const std::string& method, int block,
             const std::array<int, 3>& color, const py::object& arena_owner) {
              if (image.dtype().kind() != 'u' || image.dtype().itemsize() != 1 ||
                  image.ndim() < 2 || image.ndim() > 3 || (image.ndim() == 3 && image.shape(2) > 4) ||
                  (image.ndim() == 3 && image.strides(2) != 1) ||
                  image.strides(1) != (image.ndim() == 3 ? image.shape(2) : 1))
                  throw std::invalid_argument("image must be a uint8 HxW or HxWxC array with packed pixels");
              if (!image.writeable()) throw std::invalid_argument("image is read-only");
              Cover how;
              if (method == "pixelate") how = Cover::Pixelate;
              else if (method == "blur") how = Cover::Blur;
              else if (method == "solid") how = Cover::Solid;
              else throw std::invalid_argument("method must be pixelate, blur or solid, got '" + method + "'");
              std::uint8_t fill[3];
              for (int c = 0; c < 3; ++c) {
                  if (color[c] < 0 || color[c] > 255) throw std::invalid_argument("colour channels lie in 0..255");
                  fill[c] = static_cast<std::uint8_t>(color[c]);
              }
              auto& arena = arena_owner.cast<Arena&>();
              auto* data = static_cast<std::uint8_t*>(image.mutable_data());
              const int channels = image.ndim() == 3 ? static_cast<int>(image.shape(2)) : 1;
              py::gil_scoped_release release;
              cover_region(data, static_cast<int>(image.shape(1)), static_cast<int>(image.shape(0)),
                           image.strides(0), channels, box[0], box[1], box[2], box[3], how, block,
                           fill, arena);
          },
          py::arg("image"), py::arg("box"), py::arg("method"), py::arg("block"), py::arg("color"),
          py::arg("arena"),
          "Cover box (x0, y0, x1, y1) of the image in place: pixelate, blur or solid colour.");
}

}  // namespace facekit::bindings
