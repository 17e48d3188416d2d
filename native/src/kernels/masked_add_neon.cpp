// NEON (aarch64) path of one band of the multi-band blend (masked_add.cpp is the reference): a
// separate multiply and add (vmulq + vaddq, never vmlaq), as the reference.
#include "kernels/fusion_kernels.h"
#include "kernels/simd_neon.h"

namespace facekit::kernels {

void masked_add_neon(const float* lap, const float* mask, std::size_t count, float* acc) {
    std::size_t i = 0;
    for (; i + 4 <= count; i += 4)
        vst1q_f32(acc + i, vaddq_f32(vld1q_f32(acc + i),
                                     vmulq_f32(vld1q_f32(lap + i), vld1q_f32(mask + i))));
    if (i < count) masked_add_scalar(lap + i, mask + i, count - i, acc + i);
}

}  // namespace facekit::kernels
