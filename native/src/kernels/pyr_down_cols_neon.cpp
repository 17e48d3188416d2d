// NEON (aarch64) path of the pyramid's horizontal downsampling (pyr_down_cols.cpp is the
// reference): four outputs at a time from de-interleaving loads (vld2q), the reference's
// operations in its order (vmulq + vaddq, never vmlaq); the clamped ends go to the scalar span.
#include "kernels/fusion_kernels.h"
#include "kernels/simd_neon.h"

namespace facekit::kernels {

void pyr_down_cols_neon(const float* s, int n, float* out, int w) {
    const float32x4_t four = vdupq_n_f32(4.0f), six = vdupq_n_f32(6.0f);
    const float32x4_t sixteenth = vdupq_n_f32(0.0625f);
    // Blocks need 2x - 2 >= 0 and their last load, s[2x + 9], inside the row.
    const int first = 1;
    int x = first;
    for (; x + 4 <= w && 2 * x + 9 < n; x += 4) {
        const float* p = s + 2 * x;
        const float32x4x2_t before = vld2q_f32(p - 2);  // s[2x-2+2k], s[2x-1+2k]
        const float32x4x2_t here = vld2q_f32(p);        // s[2x+2k], s[2x+1+2k]
        const float32x4_t after = vld2q_f32(p + 2).val[0];
        const float32x4_t outer = vaddq_f32(before.val[0], after);
        const float32x4_t inner = vaddq_f32(before.val[1], here.val[1]);
        const float32x4_t sum =
            vaddq_f32(vaddq_f32(outer, vmulq_f32(inner, four)), vmulq_f32(here.val[0], six));
        vst1q_f32(out + x, vmulq_f32(sum, sixteenth));
    }
    pyr_down_cols_span_scalar(s, n, out, 0, first < w ? first : w);
    if (x < w) pyr_down_cols_span_scalar(s, n, out, x, w);
}

}  // namespace facekit::kernels
