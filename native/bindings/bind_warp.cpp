#include <pybind11/stl.h>

#include <array>
#include <stdexcept>
#include <string>

#include "bindings.h"
#include "facekit/warp.h"

namespace facekit::bindings {

namespace {

Border border_from_name(const std::string& name) {
    if (name == "zero") return Border::Zero;
    if (name == "clamp") return Border::Clamp;
    throw std::invalid_argument("unknown border '" + name + "': expected zero or clamp");
}

}  // namespace

void register_warp(py::module_& m) {
    m.attr("MAX_IMAGE_SIDE") = kMaxImageSide;
    m.attr("MAX_CROP_SIDE") = kMaxCropSide;
    m.def("rect_to_affine",
          [](double cx, double cy, double width, double height, double rotation, int out_width,
             int out_height) {
              const Affine a = rect_to_affine({cx, cy, width, height, rotation}, out_width, out_height);
              return std::array<double, 6>{a.m[0], a.m[1], a.m[2], a.m[3], a.m[4], a.m[5]};
          },
          py::arg("center_x"), py::arg("center_y"), py::arg("width"), py::arg("height"),
          py::arg("rotation"), py::arg("out_width"), py::arg("out_height"));

    m.def("crop_normalize",
          [](py::object arena_owner, const py::array& image, const std::string& format,
             const std::vector<std::array<double, 6>>& transforms, int out_width, int out_height,
             const std::array<float, 3>& scale, const std::array<float, 3>& offset,
             const std::string& border) {
              Arena& arena = arena_owner.cast<Arena&>();
              const ImageView src = image_view(image, format);
              if (transforms.empty() || transforms.size() > 64)
                  throw std::invalid_argument("crop_normalize takes 1 to 64 transforms");
              std::vector<CropNormalize> crops(transforms.size());
              for (std::size_t n = 0; n < transforms.size(); ++n) {
                  CropNormalize& params = crops[n];
                  for (int i = 0; i < 6; ++i) params.transform.m[i] = transforms[n][i];
                  params.out_width = out_width;
                  params.out_height = out_height;
                  for (int c = 0; c < 3; ++c) {
                      params.scale[c] = scale[c];
                      params.offset[c] = offset[c];
                  }
                  params.border = border_from_name(border);
                  validate(params);  // before allocating, so bad arguments cost no arena memory
              }
              const std::size_t floats = static_cast<std::size_t>(out_width) * out_height * 3;
              float* out = arena.allocate_array<float>(floats * crops.size());
              {
                  py::gil_scoped_release release;
                  for (std::size_t n = 0; n < crops.size(); ++n)
                      crop_normalize(src, crops[n], out + n * floats);
              }
              return arena_view(arena, out,
                                {static_cast<py::ssize_t>(crops.size()), out_height, out_width, 3});
          },
          py::arg("arena"), py::arg("image"), py::arg("format"), py::arg("transforms"),
          py::arg("out_width"), py::arg("out_height"), py::arg("scale"), py::arg("offset"),
          py::arg("border"),
          "Sample each transform of `image` into one new (N, H, W, 3) float32 view in `arena` "
          "(a batch, ready for a network).");
}

}  // namespace facekit::bindings
