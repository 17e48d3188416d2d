// Scalar reference for the fused crop + normalize kernel. Every SIMD path must equal it.
#include <cmath>

#include "kernels/kernels.h"

namespace facekit::kernels {

void crop_normalize_span_scalar(const ImageView& src, const CropNormalize& p, int y, int x_begin,
                                int x_end, float* out_row) {
    const int bpp = bytes_per_pixel(src.format);
    const ChannelMap map = rgb_channel_map(src.format);
    const int channel[3] = {map.r, map.g, map.b};
    const bool zero_border = p.border == Border::Zero;
    const RowOrigin origin = row_origin(p.transform, y);
    const float step_x = static_cast<float>(p.transform.m[0]);
    const float step_y = static_cast<float>(p.transform.m[3]);

    // One neighbour's bytes; zero-border neighbours outside the image read as intensity 0.
    auto pixel = [&](int px, int py, float value[3]) {
        if (zero_border && (px < 0 || px >= src.width || py < 0 || py >= src.height)) {
            value[0] = value[1] = value[2] = 0.0f;
            return;
        }
        px = px < 0 ? 0 : (px >= src.width ? src.width - 1 : px);
        py = py < 0 ? 0 : (py >= src.height ? src.height - 1 : py);
        const std::uint8_t* at = src.data + static_cast<std::ptrdiff_t>(py) * src.stride +
                                 static_cast<std::ptrdiff_t>(px) * bpp;
        for (int c = 0; c < 3; ++c) value[c] = static_cast<float>(at[channel[c]]);
    };

    for (int x = x_begin; x < x_end; ++x) {
        const float fxf = static_cast<float>(x);
        const float sx = origin.x + step_x * fxf;
        const float sy = origin.y + step_y * fxf;
        const float floor_x = std::floor(sx), floor_y = std::floor(sy);
        const int x0 = static_cast<int>(floor_x), y0 = static_cast<int>(floor_y);
        const float wx = sx - floor_x, wy = sy - floor_y;
        float p00[3], p01[3], p10[3], p11[3];
        pixel(x0, y0, p00);
        pixel(x0 + 1, y0, p01);
        pixel(x0, y0 + 1, p10);
        pixel(x0 + 1, y0 + 1, p11);
        float* o = out_row + static_cast<std::ptrdiff_t>(x) * 3;
        for (int c = 0; c < 3; ++c) {
            const float top = p00[c] + wx * (p01[c] - p00[c]);
            const float bottom = p10[c] + wx * (p11[c] - p10[c]);
            const float value = top + wy * (bottom - top);
            o[c] = value * p.scale[c] + p.offset[c];
        }
    }
}

void crop_normalize_scalar(const ImageView& src, const CropNormalize& p, float* out) {
    const std::ptrdiff_t row_floats = static_cast<std::ptrdiff_t>(p.out_width) * 3;
    for (int y = 0; y < p.out_height; ++y)
        crop_normalize_span_scalar(src, p, y, 0, p.out_width, out + y * row_floats);
}

}  // namespace facekit::kernels
