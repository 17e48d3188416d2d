// NEON (aarch64) path of the pyramid's horizontal upsampling (pyr_up_cols.cpp is the reference):
// four even and four odd outputs at a time, interleaved by vst2q, the reference's operations in
// its order (vmulq + vaddq, never vmlaq); the clamped ends go to the scalar span.
#include "kernels/fusion_kernels.h"
#include "kernels/simd_neon.h"

namespace facekit::kernels {

void pyr_up_cols_neon(const float* s, int n, float* out, int w) {
    const float32x4_t six = vdupq_n_f32(6.0f), eighth = vdupq_n_f32(0.125f);
    const float32x4_t half = vdupq_n_f32(0.5f);
    // Blocks of inputs i..i+3 need i - 1 >= 0, i + 4 < n (no clamp) and outputs 2i..2i+7 < w.
    int i = 1;
    for (; i + 4 < n && 2 * i + 8 <= w; i += 4) {
        const float32x4_t a = vld1q_f32(s + i - 1), b = vld1q_f32(s + i), c = vld1q_f32(s + i + 1);
        float32x4x2_t pair;
        pair.val[0] = vmulq_f32(vaddq_f32(vaddq_f32(a, c), vmulq_f32(b, six)), eighth);
        pair.val[1] = vmulq_f32(vaddq_f32(b, c), half);
        vst2q_f32(out + 2 * i, pair);
    }
    pyr_up_cols_span_scalar(s, n, out, 0, 2 < w ? 2 : w);
    if (2 * i < w) pyr_up_cols_span_scalar(s, n, out, 2 * i, w);
}

}  // namespace facekit::kernels
