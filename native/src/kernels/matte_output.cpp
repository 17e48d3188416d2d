// The portrait matte's guided-filter output row: the scalar reference (every SIMD variant equals
// it) and the dispatching entry point (portrait_kernels.h has the contract).
#include <algorithm>
#include <cstddef>
#include <cstdint>

#include "kernels/portrait_kernels.h"
#include "kernels/table.h"

namespace facekit::kernels {

void matte_output_scalar(const float* a0, const float* a1, const float* b0, const float* b1,
                         float wy, const std::uint8_t* guide, int pixel_stride,
                         std::size_t count, std::uint8_t* out) {
    for (std::size_t i = 0; i < count; ++i) {
        const float a = a0[i] + (a1[i] - a0[i]) * wy;
        const float b = b0[i] + (b1[i] - b0[i]) * wy;
        const float q = a * static_cast<float>(guide[i * static_cast<std::size_t>(pixel_stride)]) + b;
        out[i] = static_cast<std::uint8_t>(std::clamp(q, 0.0f, 255.0f) + 0.5f);
    }
}

void matte_output(const float* a0, const float* a1, const float* b0, const float* b1, float wy,
                  const std::uint8_t* guide, int pixel_stride, std::size_t count,
                  std::uint8_t* out) {
    run(&KernelTable::matte_output, a0, a1, b0, b1, wy, guide, pixel_stride, count, out);
}

}  // namespace facekit::kernels
