// Blending a target into an image through a mask: the scalar reference (every SIMD variant equals
// it) and the dispatching entry point (beauty_kernels.h has the contract).
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>

#include "kernels/beauty_kernels.h"
#include "kernels/table.h"

namespace facekit::kernels {

void blend_scalar(const std::uint8_t* in, const std::uint8_t* target, const std::uint8_t* mask,
                  int weight_q8, std::size_t count, int channels, std::uint8_t* out) {
    for (std::size_t i = 0; i < count; ++i) {
        const int w = (mask[i] * weight_q8 + 128) >> 8;
        for (int c = 0; c < channels; ++c) {
            const int a = in[i * channels + c];
            const int t = target[i * channels + c];
            out[i * channels + c] = static_cast<std::uint8_t>(a + (((t - a) * w + 128) >> 8));
        }
    }
}

void blend(const std::uint8_t* in, const std::uint8_t* target, const std::uint8_t* mask,
           int weight_q8, std::size_t count, int channels, std::uint8_t* out) {
    run(&KernelTable::blend, in, target, mask, weight_q8, count, channels, out);
}

}  // namespace facekit::kernels
