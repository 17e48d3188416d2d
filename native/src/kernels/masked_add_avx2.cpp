// AVX2 path of one band of the multi-band blend (masked_add.cpp is the reference): a separate
// multiply and add (no FMA), as the reference.
#include "kernels/fusion_kernels.h"
#include "kernels/simd_avx2.h"

namespace facekit::kernels {

void masked_add_avx2(const float* lap, const float* mask, std::size_t count, float* acc) {
    std::size_t i = 0;
    for (; i + 8 <= count; i += 8) {
        const __m256 product = _mm256_mul_ps(_mm256_loadu_ps(lap + i), _mm256_loadu_ps(mask + i));
        _mm256_storeu_ps(acc + i, _mm256_add_ps(_mm256_loadu_ps(acc + i), product));
    }
    if (i < count) masked_add_scalar(lap + i, mask + i, count - i, acc + i);
}

}  // namespace facekit::kernels
