// AVX2 path of the pyramid's vertical upsampling filter (pyr_up_rows.cpp is the reference): the
// same float operations in the same order, 8 lanes at a time.
#include "kernels/fusion_kernels.h"
#include "kernels/simd_avx2.h"

namespace facekit::kernels {

void pyr_up_rows_avx2(const float* a, const float* b, const float* c, std::size_t count,
                      float* even, float* odd) {
    const __m256 six = _mm256_set1_ps(6.0f), eighth = _mm256_set1_ps(0.125f);
    const __m256 half = _mm256_set1_ps(0.5f);
    std::size_t i = 0;
    for (; i + 8 <= count; i += 8) {
        const __m256 va = _mm256_loadu_ps(a + i), vb = _mm256_loadu_ps(b + i);
        const __m256 vc = _mm256_loadu_ps(c + i);
        const __m256 sum = _mm256_add_ps(_mm256_add_ps(va, vc), _mm256_mul_ps(vb, six));
        _mm256_storeu_ps(even + i, _mm256_mul_ps(sum, eighth));
        _mm256_storeu_ps(odd + i, _mm256_mul_ps(_mm256_add_ps(vb, vc), half));
    }
    if (i < count) pyr_up_rows_scalar(a + i, b + i, c + i, count - i, even + i, odd + i);
}

}  // namespace facekit::kernels
