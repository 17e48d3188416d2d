// NEON (aarch64) path of the pyramid's vertical downsampling filter (pyr_down_rows.cpp is the
// reference): the same float operations in the same order (vmulq + vaddq, never vmlaq).
#include "kernels/fusion_kernels.h"
#include "kernels/simd_neon.h"

namespace facekit::kernels {

void pyr_down_rows_neon(const float* a, const float* b, const float* c, const float* d,
                        const float* e, std::size_t count, float* out) {
    const float32x4_t four = vdupq_n_f32(4.0f), six = vdupq_n_f32(6.0f);
    const float32x4_t sixteenth = vdupq_n_f32(0.0625f);
    std::size_t i = 0;
    for (; i + 4 <= count; i += 4) {
        const float32x4_t outer = vaddq_f32(vld1q_f32(a + i), vld1q_f32(e + i));
        const float32x4_t inner = vaddq_f32(vld1q_f32(b + i), vld1q_f32(d + i));
        const float32x4_t sum =
            vaddq_f32(vaddq_f32(outer, vmulq_f32(inner, four)), vmulq_f32(vld1q_f32(c + i), six));
        vst1q_f32(out + i, vmulq_f32(sum, sixteenth));
    }
    if (i < count) pyr_down_rows_scalar(a + i, b + i, c + i, d + i, e + i, count - i, out + i);
}

}  // namespace facekit::kernels
