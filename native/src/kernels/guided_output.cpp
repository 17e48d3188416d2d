// The guided filter's output: the scalar reference (every SIMD variant equals it) and the
// dispatching entry point (beauty_kernels.h has the contract).
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>

#include "kernels/beauty_kernels.h"
#include "kernels/table.h"

namespace facekit::kernels {

void guided_output_scalar(const std::uint32_t* sum_a, const std::uint32_t* sum_b,
                          const std::uint8_t* guide, int pixel_stride, std::size_t count,
                          float inv_n, std::uint8_t* out, int out_stride) {
    const float scale_a = inv_n * (1.0f / 4096.0f);
    const float scale_b = inv_n * (1.0f / 16.0f);
    for (std::size_t i = 0; i < count; ++i) {
        const float a = static_cast<float>(sum_a[i]) * scale_a;
        const float b = static_cast<float>(sum_b[i]) * scale_b;
        const float q = a * static_cast<float>(guide[i * pixel_stride]) + b;
        out[i * out_stride] = static_cast<std::uint8_t>(std::clamp(q, 0.0f, 255.0f) + 0.5f);
    }
}

void guided_output(const std::uint32_t* sum_a, const std::uint32_t* sum_b,
                   const std::uint8_t* guide, int pixel_stride, std::size_t count, float inv_n,
                   std::uint8_t* out, int out_stride) {
    run(&KernelTable::guided_output, sum_a, sum_b, guide, pixel_stride, count, inv_n, out,
        out_stride);
}

}  // namespace facekit::kernels
