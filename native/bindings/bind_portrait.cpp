#include <pybind11/stl.h>

#include <array>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>

#include "bindings.h"
#include "facekit/portrait.h"

namespace facekit::bindings {

namespace {

portrait::Effect effect_from_name(const std::string& name) {
    if (name == "none") return portrait::Effect::None;
    if (name == "blur") return portrait::Effect::Blur;
    if (name == "color") return portrait::Effect::Color;
    if (name == "image") return portrait::Effect::Image;
    if (name == "cutout") return portrait::Effect::Cutout;
    throw std::invalid_argument("effect must be 'none', 'blur', 'color', 'image' or 'cutout', got '" +
                                name + "'");
}

Arena& arena_of(const py::object& owner) {
    if (!py::isinstance<Arena>(owner))
        throw py::type_error("arena must be a facekit._native.arena.Arena");
    return owner.cast<Arena&>();
}

// A uint8 HxW C-contiguous matte of the image's size (a view matte() returned).
const std::uint8_t* matte_of(const py::array& matte, const ImageView& image) {
    if (matte.dtype().kind() != 'u' || matte.dtype().itemsize() != 1 || matte.ndim() != 2 ||
        matte.shape(0) != image.height || matte.shape(1) != image.width ||
        !(matte.flags() & py::array::c_style))
        throw std::invalid_argument("matte must be a C-contiguous uint8 array of the image's "
                                    "height x width, got shape (" + dims(matte, "x") + ")");
    return static_cast<const std::uint8_t*>(matte.data());
}

}  // namespace

void register_portrait(py::module_& m) {
    m.attr("MASK_SIDE") = portrait::kMaskSide;
    m.def("grid_step", &portrait::grid_step, py::arg("width"), py::arg("height"),
          "Grid step of the matte's and the blur's low-resolution work.");
    m.def("smooth_mask",
          [](const py::array& mask, const py::array& state, float keep, bool first) {
              const py::ssize_t count = static_cast<py::ssize_t>(portrait::kMaskSide) * portrait::kMaskSide;
              const float* values = float_values(mask, "mask", count);
              // The state is an arena block (handed out read-only to Python); native code owns
              // its contents.
              auto* target = const_cast<float*>(float_values(state, "state", count));
              if (!(keep >= 0.0f && keep < 1.0f))
                  throw std::invalid_argument("keep must lie in [0, 1)");
              py::gil_scoped_release release;
              portrait::smooth_mask(values, target, static_cast<std::size_t>(count), keep, first);
          },
          py::arg("mask"), py::arg("state"), py::arg("keep"), py::arg("first"),
          "Temporal smoothing of the network's mask into state (arena memory), in place.");
    m.def("matte",
          [](const py::array& image, const std::string& format, const py::array& mask,
             const py::object& arena_owner) {
              const ImageView view = image_view(image, format);
              const float* values = float_values(
                  mask, "mask", static_cast<py::ssize_t>(portrait::kMaskSide) * portrait::kMaskSide);
              Arena& arena = arena_of(arena_owner);
              std::uint8_t* out = nullptr;
              {
                  py::gil_scoped_release release;
                  out = portrait::matte(view, values, arena);
              }
              return arena_array<std::uint8_t>(arena, out, {view.height, view.width});
          },
          py::arg("image"), py::arg("format"), py::arg("mask"), py::arg("arena"),
          "The person's matte (HxW uint8 in the arena) from the network's 256x256 mask, refined "
          "by a guided filter at full resolution.");
    m.def("compose",
          [](const py::array& image, const std::string& format, const py::array& matte,
             const std::string& effect, float blur, const std::array<std::int64_t, 3>& color,
             const std::optional<py::array>& background, const py::object& arena_owner) {
              const ImageView view = image_view(image, format);
              portrait::Compose how;
              how.effect = effect_from_name(effect);
              how.blur = blur;
              for (int c = 0; c < 3; ++c) {
                  if (color[c] < 0 || color[c] > 255)
                      throw std::invalid_argument("color channels lie in 0..255, got " +
                                                  std::to_string(color[c]));
                  how.color[c] = static_cast<std::uint8_t>(color[c]);
              }
              if (how.effect == portrait::Effect::Image) {
                  if (!background) throw std::invalid_argument("effect 'image' needs a background");
                  how.background = image_view(*background, format);
              }
              const std::uint8_t* values = matte_of(matte, view);
              Arena& arena = arena_of(arena_owner);
              const py::ssize_t channels =
                  how.effect == portrait::Effect::Cutout ? 4 : bytes_per_pixel(view.format);
              std::uint8_t* out = nullptr;
              {
                  py::gil_scoped_release release;
                  out = portrait::compose(view, values, how, arena);
              }
              if (image.ndim() == 2 && channels == 1)
                  return arena_array<std::uint8_t>(arena, out, {view.height, view.width});
              return arena_array<std::uint8_t>(arena, out, {view.height, view.width, channels});
          },
          py::arg("image"), py::arg("format"), py::arg("matte"), py::arg("effect"),
          py::arg("blur"), py::arg("color"), py::arg("background"), py::arg("arena"),
          "The effect applied with the matte, as a new image in the arena (cutout: RGBA-like, "
          "the image's colour channels then the matte).");
}

}  // namespace facekit::bindings
