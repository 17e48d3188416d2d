// The argument checks every bind_<area>.cpp shares: one helper per kind of array.
#include "bindings.h"

#include <stdexcept>
#include <string>

namespace facekit::bindings {

std::string dims(const py::array& a, const char* separator) {
    std::string s;
    for (py::ssize_t i = 0; i < a.ndim(); ++i)
        s += (i ? separator : "") + std::to_string(a.shape(i));
    return s;
}

PixelFormat format_from_name(const std::string& name) {
    if (name == "gray") return PixelFormat::Gray;
    if (name == "rgb") return PixelFormat::RGB;
    if (name == "bgr") return PixelFormat::BGR;
    if (name == "rgba") return PixelFormat::RGBA;
    if (name == "bgra") return PixelFormat::BGRA;
    throw std::invalid_argument("unknown pixel format '" + name +
                                "': expected gray, rgb, bgr, rgba or bgra");
}

// Borrows a numpy uint8 image without copying. Rows may have any stride (padding, negative);
// pixels within a row must be packed.
ImageView image_view(const py::array& image, const std::string& format_name) {
    const PixelFormat format = format_from_name(format_name);
    const int channels = bytes_per_pixel(format);
    if (image.dtype().kind() != 'u' || image.dtype().itemsize() != 1)
        throw std::invalid_argument("image dtype must be uint8, got " +
                                    py::str(image.dtype()).cast<std::string>());
    const bool gray = format == PixelFormat::Gray;
    const bool shape_ok = gray ? (image.ndim() == 2 || (image.ndim() == 3 && image.shape(2) == 1))
                               : (image.ndim() == 3 && image.shape(2) == channels);
    if (!shape_ok) {
        throw std::invalid_argument("image of shape (" + dims(image, "x") + ") does not fit format '" +
                                    format_name + "' (expected HxW" +
                                    (gray ? std::string(" or HxWx1") : "x" + std::to_string(channels)) +
                                    ")");
    }
    if (image.shape(0) == 0 || image.shape(1) == 0)
        throw std::invalid_argument("image is empty");
    if ((image.shape(1) > 1 && image.strides(1) != channels) ||
        (image.ndim() == 3 && image.shape(2) > 1 && image.strides(2) != 1))
        throw std::invalid_argument("image pixels must be packed within a row (pass "
                                    "np.ascontiguousarray(image))");
    if (image.shape(0) > kMaxImageSide || image.shape(1) > kMaxImageSide)
        throw std::invalid_argument("image of " + std::to_string(image.shape(1)) + "x" +
                                    std::to_string(image.shape(0)) + " exceeds the " +
                                    std::to_string(kMaxImageSide) + "-pixel side limit");
    ImageView view;
    view.data = static_cast<const std::uint8_t*>(image.data());
    view.width = static_cast<int>(image.shape(1));
    view.height = static_cast<int>(image.shape(0));
    view.stride = image.strides(0);
    view.format = format;
    validate(view);
    return view;
}

ImageView writable_image_view(const py::array& image, const std::string& format_name,
                              const char* name) {
    const ImageView view = image_view(image, format_name);
    if (!image.writeable()) throw std::invalid_argument(std::string(name) + " is read-only");
    return view;
}

PointRows point_rows(const py::array& points, const char* name, int min_rows) {
    if (points.dtype().kind() != 'f' || points.dtype().itemsize() != 4 || points.ndim() != 2 ||
        points.shape(1) < 2 || points.strides(1) != 4 || points.strides(0) % 4 != 0 ||
        points.shape(0) < min_rows)
        throw std::invalid_argument(
            std::string(name) + " must be a float32 (N" +
            (min_rows > 0 ? " >= " + std::to_string(min_rows) : std::string()) + ", 2+) array");
    return {static_cast<const float*>(points.data()), static_cast<int>(points.shape(0)),
            static_cast<int>(points.strides(0) / 4)};
}

const float* contiguous_floats(const py::array& a, const char* name) {
    if (!py::isinstance<py::array_t<float>>(a))
        throw std::invalid_argument(std::string(name) + " dtype must be float32 (native byte "
                                    "order), got " + py::str(a.dtype()).cast<std::string>());
    if (!(a.flags() & py::array::c_style))
        throw std::invalid_argument(std::string(name) + " must be C-contiguous (pass "
                                    "np.ascontiguousarray(" + name + "))");
    if (!(a.flags() & py::detail::npy_api::NPY_ARRAY_ALIGNED_))
        throw std::invalid_argument(std::string(name) + " must be aligned for float32");
    return static_cast<const float*>(a.data());
}

const float* float_values(const py::array& a, const char* name, py::ssize_t count) {
    const float* data = contiguous_floats(a, name);
    if (a.size() != count)
        throw std::invalid_argument(std::string(name) + " must hold " + std::to_string(count) +
                                    " float32 values, got shape (" + dims(a, ", ") + ")");
    return data;
}

}  // namespace facekit::bindings
