// AVX2 path of the pyramid's vertical downsampling filter (pyr_down_rows.cpp is the reference):
// the same float operations in the same order, 8 lanes at a time.
#include "kernels/fusion_kernels.h"
#include "kernels/simd_avx2.h"

namespace facekit::kernels {

void pyr_down_rows_avx2(const float* a, const float* b, const float* c, const float* d,
                        const float* e, std::size_t count, float* out) {
    const __m256 four = _mm256_set1_ps(4.0f), six = _mm256_set1_ps(6.0f);
    const __m256 sixteenth = _mm256_set1_ps(0.0625f);
    std::size_t i = 0;
    for (; i + 8 <= count; i += 8) {
        const __m256 outer = _mm256_add_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(e + i));
        const __m256 inner = _mm256_add_ps(_mm256_loadu_ps(b + i), _mm256_loadu_ps(d + i));
        const __m256 sum = _mm256_add_ps(_mm256_add_ps(outer, _mm256_mul_ps(inner, four)),
                                         _mm256_mul_ps(_mm256_loadu_ps(c + i), six));
        _mm256_storeu_ps(out + i, _mm256_mul_ps(sum, sixteenth));
    }
    if (i < count) pyr_down_rows_scalar(a + i, b + i, c + i, d + i, e + i, count - i, out + i);
}

}  // namespace facekit::kernels
