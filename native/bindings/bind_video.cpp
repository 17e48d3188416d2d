#include "bindings.h"
#include "facekit/yuv.h"

namespace facekit::bindings {

namespace {

YuvFormat yuv_format(const std::string& matrix, bool full_range, const std::string& siting) {
    if (matrix != "bt601" && matrix != "bt709")
        throw std::invalid_argument("matrix must be 'bt601' or 'bt709', got '" + matrix + "'");
    if (siting != "centre" && siting != "left")
        throw std::invalid_argument("siting must be 'centre' or 'left', got '" + siting + "'");
    return {matrix == "bt709" ? YuvMatrix::Bt709 : YuvMatrix::Bt601, full_range, siting == "centre"};
}

PlaneOut plane_out(const py::array& a, const char* name, const char* format) {
    const ImageView view = writable_image_view(a, format, name);
    return {const_cast<std::uint8_t*>(view.data), view.width, view.height, view.stride};
}

}  // namespace

void register_video(py::module_& m) {
    m.def("yuv420_to_rgb",
          [](const py::array& y, const py::array& u, const py::array& v, const std::string& matrix,
             bool full_range, const std::string& siting) {
              const YuvFormat format = yuv_format(matrix, full_range, siting);
              const ImageView yv = image_view(y, "gray"), uv = image_view(u, "gray"),
                              vv = image_view(v, "gray");
              py::array_t<std::uint8_t> out({static_cast<py::ssize_t>(yv.height),
                                             static_cast<py::ssize_t>(yv.width), py::ssize_t{3}});
              const PlaneOut rgb{out.mutable_data(), yv.width, yv.height,
                                 static_cast<std::ptrdiff_t>(yv.width) * 3};
              py::gil_scoped_release unlocked;  // the other video threads run meanwhile
              yuv420_to_rgb(yv, uv, vv, format, rgb);
              return out;
          },
          py::arg("y"), py::arg("u"), py::arg("v"), py::arg("matrix"), py::arg("full_range"),
          py::arg("siting") = "centre",
          "A new (H, W, 3) RGB array from yuv420p planes (2-D uint8 views, rows any stride; U "
          "and V at least half the size, rounded up); siting: 'centre' or 'left' chroma.");
    m.def("rgb_to_yuv420",
          [](const py::array& rgb, py::array y, py::array u, py::array v, const std::string& matrix,
             bool full_range) {
              const YuvFormat format = yuv_format(matrix, full_range, "centre");
              const ImageView in = image_view(rgb, "rgb");
              const PlaneOut yo = plane_out(y, "Y plane", "gray"), uo = plane_out(u, "U plane", "gray"),
                             vo = plane_out(v, "V plane", "gray");
              py::gil_scoped_release unlocked;
              rgb_to_yuv420(in, format, yo, uo, vo);
          },
          py::arg("rgb"), py::arg("y"), py::arg("u"), py::arg("v"), py::arg("matrix"),
          py::arg("full_range"),
          "Writes the (H, W, 3) RGB array into yuv420p planes (2-D writable uint8 views).");
    m.def("rgb_changes_to_yuv420",
          [](const py::array& before, const py::array& after, py::array y, py::array u, py::array v,
             const std::string& matrix, bool full_range) {
              const YuvFormat format = yuv_format(matrix, full_range, "centre");
              const ImageView was = image_view(before, "rgb"), now = image_view(after, "rgb");
              const PlaneOut yo = plane_out(y, "Y plane", "gray"), uo = plane_out(u, "U plane", "gray"),
                             vo = plane_out(v, "V plane", "gray");
              py::gil_scoped_release unlocked;
              rgb_changes_to_yuv420(was, now, format, yo, uo, vo);
          },
          py::arg("before"), py::arg("after"), py::arg("y"), py::arg("u"), py::arg("v"),
          py::arg("matrix"), py::arg("full_range"),
          "Writes into yuv420p planes holding `before`'s picture only the rows' column spans "
          "where `after` differs from `before` (the rest stays bit for bit).");
}

}  // namespace facekit::bindings
