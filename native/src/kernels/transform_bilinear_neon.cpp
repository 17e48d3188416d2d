// NEON (aarch64) path of the attention mesh's bilinear sampler (transform_bilinear.cpp is the
// reference): positions and weights from the shared scalar code, then four channels at a time
// with vmulq + vaddq (never vmlaq/vfmaq) in the reference's order; the last channels < 4
// through the reference's own loop.
#include <arm_neon.h>

#include "kernels/attention_kernels.h"

namespace facekit::kernels {

void transform_bilinear_neon(const BilinearTransform& transform, float* out) {
    const BilinearTransform t = transform;  // a local copy: the stores to `out` cannot alias it
    const int c_count = t.channels;
    const int c_vector = c_count - c_count % 4;
    const std::ptrdiff_t row = static_cast<std::ptrdiff_t>(t.width) * c_count;
    const float32x4_t zero = vdupq_n_f32(0.0f);
    for (int y = 0; y < t.out_height; ++y) {
        for (int x = 0; x < t.out_width; ++x) {
            float* pixel = out + (static_cast<std::ptrdiff_t>(y) * t.out_width + x) * c_count;
            BilinearTap tap;
            if (!bilinear_tap(t, x, y, tap)) {
                int c = 0;
                for (; c < c_vector; c += 4) vst1q_f32(pixel + c, zero);
                for (; c < c_count; ++c) pixel[c] = 0.0f;
                continue;
            }
            const float32x4_t wx0 = vdupq_n_f32(tap.wx0), wx1 = vdupq_n_f32(tap.wx1);
            const float32x4_t wy0 = vdupq_n_f32(tap.wy0), wy1 = vdupq_n_f32(tap.wy1);
            // Offsets, not pointers: a neighbour past the edge is never even pointed at.
            const float* in = t.input;
            const std::ptrdiff_t at = tap.at, below_at = tap.at + row;
            const bool right = tap.right, below = tap.below, both = right && below;
            for (int c = 0; c < c_vector; c += 4) {
                const float32x4_t a = vld1q_f32(in + (at + c));
                const float32x4_t b = right ? vld1q_f32(in + (at + c_count + c)) : zero;
                const float32x4_t d0 = below ? vld1q_f32(in + (below_at + c)) : zero;
                const float32x4_t d1 = both ? vld1q_f32(in + (below_at + c_count + c)) : zero;
                const float32x4_t top = vaddq_f32(vmulq_f32(wx0, a), vmulq_f32(wx1, b));
                const float32x4_t bottom = vaddq_f32(vmulq_f32(wx0, d0), vmulq_f32(wx1, d1));
                vst1q_f32(pixel + c, vaddq_f32(vmulq_f32(wy1, bottom), vmulq_f32(wy0, top)));
            }
            if (c_vector < c_count) bilinear_channels(t, tap, c_vector, pixel);
        }
    }
}

}  // namespace facekit::kernels
