// NEON (aarch64) path of the pyramid's vertical upsampling filter (pyr_up_rows.cpp is the
// reference): the same float operations in the same order (vmulq + vaddq, never vmlaq).
#include "kernels/fusion_kernels.h"
#include "kernels/simd_neon.h"

namespace facekit::kernels {

void pyr_up_rows_neon(const float* a, const float* b, const float* c, std::size_t count,
                      float* even, float* odd) {
    const float32x4_t six = vdupq_n_f32(6.0f), eighth = vdupq_n_f32(0.125f);
    const float32x4_t half = vdupq_n_f32(0.5f);
    std::size_t i = 0;
    for (; i + 4 <= count; i += 4) {
        const float32x4_t va = vld1q_f32(a + i), vb = vld1q_f32(b + i), vc = vld1q_f32(c + i);
        const float32x4_t sum = vaddq_f32(vaddq_f32(va, vc), vmulq_f32(vb, six));
        vst1q_f32(even + i, vmulq_f32(sum, eighth));
        vst1q_f32(odd + i, vmulq_f32(vaddq_f32(vb, vc), half));
    }
    if (i < count) pyr_up_rows_scalar(a + i, b + i, c + i, count - i, even + i, odd + i);
}

}  // namespace facekit::kernels
