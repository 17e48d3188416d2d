// AVX2 path of the pyramid's horizontal upsampling (pyr_up_cols.cpp is the reference): eight
// even and eight odd outputs at a time, interleaved on store, the reference's operations in its
// order; the clamped ends go to the scalar span.
#include "kernels/fusion_kernels.h"
#include "kernels/simd_avx2.h"

namespace facekit::kernels {

void pyr_up_cols_avx2(const float* s, int n, float* out, int w) {
    const __m256 six = _mm256_set1_ps(6.0f), eighth = _mm256_set1_ps(0.125f);
    const __m256 half = _mm256_set1_ps(0.5f);
    // Blocks of inputs i..i+7 need i - 1 >= 0, i + 8 < n (no clamp) and outputs 2i..2i+15 < w.
    int i = 1;
    for (; i + 8 < n && 2 * i + 16 <= w; i += 8) {
        const __m256 a = _mm256_loadu_ps(s + i - 1), b = _mm256_loadu_ps(s + i);
        const __m256 c = _mm256_loadu_ps(s + i + 1);
        const __m256 even = _mm256_mul_ps(_mm256_add_ps(_mm256_add_ps(a, c), _mm256_mul_ps(b, six)), eighth);
        const __m256 odd = _mm256_mul_ps(_mm256_add_ps(b, c), half);
        const __m256 lo = _mm256_unpacklo_ps(even, odd), hi = _mm256_unpackhi_ps(even, odd);
        _mm256_storeu_ps(out + 2 * i, _mm256_permute2f128_ps(lo, hi, 0x20));
        _mm256_storeu_ps(out + 2 * i + 8, _mm256_permute2f128_ps(lo, hi, 0x31));
    }
    pyr_up_cols_span_scalar(s, n, out, 0, 2 < w ? 2 : w);
    if (2 * i < w) pyr_up_cols_span_scalar(s, n, out, 2 * i, w);
}

}  // namespace facekit::kernels
