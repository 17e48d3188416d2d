#include <pybind11/stl.h>

#include <array>
#include <optional>
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
    if (method == "mask") return Cover::Picture;
    throw std::invalid_argument("method must be 'pixelate', 'blur', 'solid' or 'mask', got '" + method + "'");
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

void check_fill(const std::array<std::int64_t, 3>& color, std::uint8_t fill[3]) {
    for (int c = 0; c < 3; ++c) {
        if (color[c] < 0 || color[c] > 255)
            throw std::invalid_argument("color channels lie in 0..255, got " + std::to_string(color[c]));
        fill[c] = static_cast<std::uint8_t>(color[c]);
    }
}

Arena& arena_of(const py::object& owner) {
    if (!py::isinstance<Arena>(owner)) throw py::type_error("arena must be a facekit._native.arena.Arena");
    return owner.cast<Arena&>();
}

// The mask picture: uint8, C-contiguous rows of packed pixels, HxW (gray) or HxWx3.
CoverPicture picture_of(const py::array& mask) {
    if (mask.dtype().kind() != 'u' || mask.itemsize() != 1)
        throw std::invalid_argument("mask must be a uint8 array");
    if (mask.ndim() != 2 && !(mask.ndim() == 3 && mask.shape(2) == 3))
        throw std::invalid_argument("mask of shape (" + dims(mask, "x") + ") is not HxW or HxWx3");
    if (mask.shape(0) < 1 || mask.shape(1) < 1) throw std::invalid_argument("mask is empty");
    const int channels = mask.ndim() == 3 ? 3 : 1;
    if (mask.strides(1) != channels || (mask.ndim() == 3 && mask.strides(2) != 1))
        throw std::invalid_argument("mask pixels must be packed within a row");
    return CoverPicture{static_cast<const std::uint8_t*>(mask.data()), static_cast<int>(mask.shape(1)),
                        static_cast<int>(mask.shape(0)), mask.strides(0), channels};
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
    m.def("cover_ellipse",
          [](py::array image, const std::array<double, 5>& ellipse, const std::string& method,
             std::int64_t block, const std::array<std::int64_t, 3>& color, const py::object& arena_owner,
             const std::optional<py::array>& mask) {
              const ImageView view = writable_image_view(image, format_for(image), "image");
              const Cover how = cover_from_name(method);
              std::uint8_t fill[3];
              check_fill(color, fill);
              auto& arena = arena_of(arena_owner);
              std::optional<CoverPicture> picture;
              if (mask) picture = picture_of(*mask);
              if (how == Cover::Picture && !picture) throw std::invalid_argument("method 'mask' needs a mask");
              auto* data = static_cast<std::uint8_t*>(image.mutable_data());
              const int channels = bytes_per_pixel(view.format);
              const CoverEllipse shape{ellipse[0], ellipse[1], ellipse[2], ellipse[3], ellipse[4]};
              py::gil_scoped_release release;
              cover_ellipse(data, view.width, view.height, view.stride, channels, shape, how, block, fill,
                            picture ? &*picture : nullptr, arena);
          },
          py::arg("image"), py::arg("ellipse"), py::arg("method"), py::arg("block"), py::arg("color"),
          py::arg("arena"), py::arg("mask") = py::none(),
          "Cover the pixels inside ellipse (cx, cy, rx, ry, angle in radians) of the image in place: "
          "pixelate or blur (block: cell side or blur radius, in [1, MAX_BLOCK]), solid colour, or "
          "'mask': the mask picture (uint8 HxW for a gray image, HxWx3 otherwise) scaled into it.");
}

}  // namespace facekit::bindings
