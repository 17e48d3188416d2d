// AVX2 path of the pyramid's horizontal downsampling (pyr_down_cols.cpp is the reference): eight
// outputs at a time from the even-indexed samples at five offsets, the reference's operations in
// its order; the clamped ends go to the scalar span.
#include "kernels/fusion_kernels.h"
#include "kernels/simd_avx2.h"

namespace facekit::kernels {

namespace {

// s[0], s[2], ..., s[14] in order.
inline __m256 evens(const float* s) {
    const __m256 lo = _mm256_loadu_ps(s), hi = _mm256_loadu_ps(s + 8);
    const __m256 mixed = _mm256_shuffle_ps(lo, hi, _MM_SHUFFLE(2, 0, 2, 0));  // 0 2 8 10 4 6 12 14
    return _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(mixed), _MM_SHUFFLE(3, 1, 2, 0)));
}

}  // namespace

void pyr_down_cols_avx2(const float* s, int n, float* out, int w) {
    const __m256 four = _mm256_set1_ps(4.0f), six = _mm256_set1_ps(6.0f);
    const __m256 sixteenth = _mm256_set1_ps(0.0625f);
    // Blocks need 2x - 2 >= 0 and their last load, s[2x + 17], inside the row.
    const int first = 1;
    int x = first;
    for (; x + 8 <= w && 2 * x + 17 < n; x += 8) {
        const float* p = s + 2 * x;
        const __m256 outer = _mm256_add_ps(evens(p - 2), evens(p + 2));
        const __m256 inner = _mm256_add_ps(evens(p - 1), evens(p + 1));
        const __m256 sum = _mm256_add_ps(_mm256_add_ps(outer, _mm256_mul_ps(inner, four)),
                                         _mm256_mul_ps(evens(p), six));
        _mm256_storeu_ps(out + x, _mm256_mul_ps(sum, sixteenth));
    }
    pyr_down_cols_span_scalar(s, n, out, 0, first < w ? first : w);
    if (x < w) pyr_down_cols_span_scalar(s, n, out, x, w);
}

}  // namespace facekit::kernels
