// Bilinear sampling at arbitrary positions (the shape warp): the scalar reference (every SIMD
// variant equals it) and the dispatching entry point (beauty_kernels.h has the contract).
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>

#include "kernels/beauty_kernels.h"
#include "kernels/table.h"

namespace facekit::kernels {

void remap_bilinear_scalar(const std::uint8_t* image, int width, int height,
                           std::ptrdiff_t stride, int channels, const float* positions,
                           std::size_t count, std::uint8_t* out) {
    const float max_x = static_cast<float>(width - 1), max_y = static_cast<float>(height - 1);
    for (std::size_t i = 0; i < count; ++i) {
        const float x = std::clamp(positions[2 * i], 0.0f, max_x);
        const float y = std::clamp(positions[2 * i + 1], 0.0f, max_y);
        const int x0 = static_cast<int>(x), y0 = static_cast<int>(y);
        const int fx = static_cast<int>((x - static_cast<float>(x0)) * 2048.0f + 0.5f);
        const int fy = static_cast<int>((y - static_cast<float>(y0)) * 2048.0f + 0.5f);
        const int x1 = std::min(x0 + 1, width - 1), y1 = std::min(y0 + 1, height - 1);
        const std::uint8_t* r0 = image + y0 * stride;
        const std::uint8_t* r1 = image + y1 * stride;
        for (int c = 0; c < channels; ++c) {
            const int top = r0[x0 * channels + c] * (2048 - fx) + r0[x1 * channels + c] * fx;
            const int bottom = r1[x0 * channels + c] * (2048 - fx) + r1[x1 * channels + c] * fx;
            // top, bottom < 2^19; the product sum < 2^30: exact in 32 bits.
            const int value = (top * (2048 - fy) + bottom * fy + (1 << 21)) >> 22;
            out[i * channels + c] = static_cast<std::uint8_t>(value);
        }
    }
}

void remap_bilinear(const std::uint8_t* image, int width, int height, std::ptrdiff_t stride,
                    int channels, const float* positions, std::size_t count, std::uint8_t* out) {
    run(&KernelTable::remap_bilinear, image, width, height, stride, channels, positions, count,
        out);
}

}  // namespace facekit::kernels
