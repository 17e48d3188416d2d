#include <pybind11/stl.h>

#include <array>
#include <cstdint>
#include <stdexcept>
#include <string>

#include "bindings.h"
#include "facekit/anonymize.h"

namespace facekit::bindings {

namespace {

Cover cover_from_name(const std::string& method) {
    if (method == "pixelate") return Cover::Pixelate;
    if (method == "blur") return Cover::Blur;
    if (method == "solid") return Cover::Solid;
    throw std::invalid_argument("method must be 'pixelate', 'blur' or 'solid', got '" + method + "'");
}

// The pixel format image_view checks the array against: gray, or 3/4 channels (their order does
// not matter to a cover).
std::string format_for(const py::array& image) {
    if (image.ndim() == 2) return "gray";
    if (image.ndim() == 3) {
        switch (image.shape(2)) {
            case 1: return "gray";
            case 3: return "rgb";
            case 4: return "rgba";
        }
    }
    throw std::invalid_argument("image of shape (" + dims(image, "x") +
                                ") is not HxW, HxWx1, HxWx3 or HxWx4");
}

}  // namespace

void register_anonymize(py::module_& m) {
    m.attr("MAX_BLOCK") = kMaxCoverBlock;
    m.def("cover",
          [](py::array image, const std::array<std::int64_t, 4>& box, const std::string& method,
             std::int64_t block, const std::array<std::int64_t, 3>& color, const py::object& arena_owner) {
              const ImageView view = writable_image_view(image, format_for(image), "image");
              const Cover how = cover_from_name(method);
              if (block < 1 || block > kMaxCoverBlock)
                  throw std::invalid_argument("block must lie in [1, " + std::to_string(kMaxCoverBlock) +
                                              "], got " + std::to_string(block));
              std::uint8_t fill[3];
              for (int c = 0; c < 3; ++c) {
                  if (color[c] < 0 || color[c] > 255)
                      throw std::invalid_argument("color channels lie in 0..255, got " + std::to_string(color[c]));
                  fill[c] = static_cast<std::uint8_t>(color[c]);
              }
              if (!py::isinstance<Arena>(arena_owner))
                  throw py::type_error("arena must be a facekit._native.arena.Arena");
              auto& arena = arena_owner.cast<Arena&>();
              auto* data = static_cast<std::uint8_t*>(image.mutable_data());
              const int channels = bytes_per_pixel(view.format);
              py::gil_scoped_release release;
              cover_region(data, view.width, view.height, view.stride, channels, box[0], box[1], box[2],
                           box[3], how, block, fill, arena);
          },
          py::arg("image"), py::arg("box"), py::arg("method"), py::arg("block"), py::arg("color"),
          py::arg("arena"),
          "Cover box (x0, y0, x1, y1) of the image in place (clipped to it): pixelate, blur or solid "
          "colour. block (cell side or blur radius) lies in [1, MAX_BLOCK].");
}

}  // namespace facekit::bindings
