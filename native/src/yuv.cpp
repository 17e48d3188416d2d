// yuv420p <-> RGB frames: the fixed-point coefficients of each matrix and range, and the row
// loops over the kernels (kernels/video_kernels.h has the arithmetic).
#include "facekit/yuv.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>

#include "kernels/video_kernels.h"

namespace facekit {

namespace {

std::int32_t fixed(double v, int bits) { return static_cast<std::int32_t>(std::lround(std::ldexp(v, bits))); }

kernels::YuvCoefficients coefficients(YuvFormat format) {
    const double kr = format.matrix == YuvMatrix::Bt709 ? 0.2126 : 0.299;
    const double kb = format.matrix == YuvMatrix::Bt709 ? 0.0722 : 0.114;
    const double kg = 1.0 - kr - kb;
    const double luma = format.full_range ? 1.0 : 219.0 / 255.0;    // Y per unit of RGB
    const double chroma = format.full_range ? 1.0 : 224.0 / 255.0;  // U, V per unit of RGB
    const std::int32_t offset = format.full_range ? 0 : 16;
    kernels::YuvCoefficients k{};
    k.y_offset = offset;
    k.y_gain = fixed(1.0 / luma, 20);
    k.centred = format.centred;
    k.r_v = fixed(2.0 * (1.0 - kr) / chroma, 16);
    k.b_u = fixed(2.0 * (1.0 - kb) / chroma, 16);
    k.g_u = -fixed(2.0 * (1.0 - kb) * kb / kg / chroma, 16);
    k.g_v = -fixed(2.0 * (1.0 - kr) * kr / kg / chroma, 16);
    // The rows of each forward matrix sum exactly as they should, so white and grey stay exact.
    k.y_r = fixed(kr * luma, 16);
    k.y_b = fixed(kb * luma, 16);
    k.y_g = fixed(luma, 16) - k.y_r - k.y_b;
    k.y_bias = (offset << 16) + (1 << 15);
    k.u_r = fixed(-kr / (2.0 * (1.0 - kb)) * chroma, 16);
    k.u_g = fixed(-kg / (2.0 * (1.0 - kb)) * chroma, 16);
    k.u_b = -(k.u_r + k.u_g);
    k.v_g = fixed(-kg / (2.0 * (1.0 - kr)) * chroma, 16);
    k.v_b = fixed(-kb / (2.0 * (1.0 - kr)) * chroma, 16);
    k.v_r = -(k.v_g + k.v_b);
    k.c_bias = (128 << 20) + (1 << 19);
    return k;
}

void require(bool ok, const std::string& what) {
    if (!ok) throw std::invalid_argument(what);
}

void check_plane(const ImageView& p, int width, int height, const char* name) {
    require(p.data != nullptr && p.format == PixelFormat::Gray, std::string(name) + " plane must be a gray view");
    validate(p);
    require(p.width >= width && p.height >= height,
            std::string(name) + " plane of " + std::to_string(p.width) + "x" + std::to_string(p.height) +
                " is smaller than " + std::to_string(width) + "x" + std::to_string(height));
}

void check_plane(const PlaneOut& p, int width, int height, int channels, const char* name) {
    require(p.data != nullptr, std::string(name) + " is null");
    require(p.width >= width && p.height >= height && p.stride >= static_cast<std::ptrdiff_t>(channels) * width,
            std::string(name) + " of " + std::to_string(p.width) + "x" + std::to_string(p.height) +
                " is smaller than " + std::to_string(width) + "x" + std::to_string(height));
}

template <typename Plane>
auto row(const Plane& p, int r) {
    return p.data + static_cast<std::ptrdiff_t>(r) * p.stride;
}

}  // namespace

void yuv420_to_rgb(const ImageView& y, const ImageView& u, const ImageView& v, YuvFormat format,
                   const PlaneOut& rgb) {
    require(y.data != nullptr && y.format == PixelFormat::Gray, "Y plane must be a gray view");
    validate(y);
    const int cw = (y.width + 1) / 2, ch = (y.height + 1) / 2;
    check_plane(u, cw, ch, "U");
    check_plane(v, cw, ch, "V");
    check_plane(rgb, y.width, y.height, 3, "RGB output");
    const kernels::YuvCoefficients k = coefficients(format);
    for (int r = 0; r < y.height; ++r) {
        // Chroma row j sits between luma rows 2j and 2j + 1: the other neighbour is above for an
        // even row, below for an odd one (the edge row repeated).
        const int j = r / 2;
        const int other = (r & 1) ? (j + 1 < ch ? j + 1 : j) : (j > 0 ? j - 1 : 0);
        kernels::yuv_to_rgb_row(row(y, r), row(u, j), row(u, other), row(v, j), row(v, other),
                                y.width, k, row(rgb, r));
    }
}

void rgb_to_yuv420(const ImageView& rgb, YuvFormat format, const PlaneOut& y, const PlaneOut& u,
                   const PlaneOut& v) {
    require(rgb.data != nullptr && rgb.format == PixelFormat::RGB, "input must be an RGB view");
    validate(rgb);
    const int w = rgb.width, h = rgb.height, cw = (w + 1) / 2, ch = (h + 1) / 2;
    check_plane(y, w, h, 1, "Y plane");
    check_plane(u, cw, ch, 1, "U plane");
    check_plane(v, cw, ch, 1, "V plane");
    const kernels::YuvCoefficients k = coefficients(format);
    for (int r = 0; r < h; ++r) kernels::rgb_to_y_row(row(rgb, r), w, k, row(y, r));
    auto clamped = [&](int r) { return row(rgb, r < 0 ? 0 : r >= h ? h - 1 : r); };
    for (int j = 0; j < ch; ++j)
        kernels::rgb_to_uv_row(clamped(2 * j - 1), clamped(2 * j), clamped(2 * j + 1),
                               clamped(2 * j + 2), w, k, row(u, j), row(v, j));
}

void rgb_changes_to_yuv420(const ImageView& before, const ImageView& after, YuvFormat format,
                           const PlaneOut& y, const PlaneOut& u, const PlaneOut& v) {
    require(before.data != nullptr && before.format == PixelFormat::RGB &&
                after.data != nullptr && after.format == PixelFormat::RGB,
            "before and after must be RGB views");
    validate(before);
    validate(after);
    require(before.width == after.width && before.height == after.height,
            "before and after must have the same size");
    const int w = after.width, h = after.height, cw = (w + 1) / 2, ch = (h + 1) / 2;
    check_plane(y, w, h, 1, "Y plane");
    check_plane(u, cw, ch, 1, "U plane");
    check_plane(v, cw, ch, 1, "V plane");
    const kernels::YuvCoefficients k = coefficients(format);
    // First and one-past-last differing pixel of each row (first == w: none).
    std::vector<int> first(h, w), last(h, 0);
    const std::size_t bytes = static_cast<std::size_t>(w) * 3;
    for (int r = 0; r < h; ++r) {
        const std::uint8_t *a = row(before, r), *b = row(after, r);
        if (std::memcmp(a, b, bytes) == 0) continue;
        std::size_t lo = 0, hi = bytes;
        while (a[lo] == b[lo]) ++lo;
        while (a[hi - 1] == b[hi - 1]) --hi;
        first[r] = static_cast<int>(lo / 3);
        last[r] = static_cast<int>((hi - 1) / 3) + 1;
    }
    auto clamp_row = [&](int r) { return r < 0 ? 0 : r >= h ? h - 1 : r; };
    for (int j = 0; j < ch; ++j) {
        int x0 = w, x1 = 0;
        for (int r = 2 * j - 1; r <= 2 * j + 2; ++r) {
            x0 = std::min(x0, first[clamp_row(r)]);
            x1 = std::max(x1, last[clamp_row(r)]);
        }
        if (x0 >= x1) continue;
        x0 &= ~1;                       // chroma sample i covers columns 2i and 2i + 1
        x1 = std::min(w, (x1 + 1) & ~1);
        const int span = x1 - x0;
        auto at = [&](int r) { return row(after, clamp_row(r)) + 3 * x0; };
        for (int r = 2 * j; r < std::min(h, 2 * j + 2); ++r)
            kernels::rgb_to_y_row(at(r), span, k, row(y, r) + x0);
        kernels::rgb_to_uv_row(at(2 * j - 1), at(2 * j), at(2 * j + 1), at(2 * j + 2), span, k,
                               row(u, j) + x0 / 2, row(v, j) + x0 / 2);
    }
}

}  // namespace facekit
