// AVX2 path of the guided filter's per-window coefficients (guided_coefficients.cpp is the
// reference; simd_avx2.h says how every path stays bit-identical to it).
#include "kernels/simd_avx2.h"

namespace facekit::kernels {

void guided_coefficients_avx2(const std::uint32_t* sum_i, const std::uint32_t* sum_ii,
                              std::size_t count, float inv_n, float eps, std::uint32_t* a_q,
                              std::uint32_t* b_q) {
    const __m256 vinv = _mm256_set1_ps(inv_n), veps = _mm256_set1_ps(eps);
    const __m256 zero = _mm256_setzero_ps(), half = _mm256_set1_ps(0.5f);
    const __m256 a_scale = _mm256_set1_ps(4096.0f), b_scale = _mm256_set1_ps(16.0f);
    std::size_t i = 0;
    for (; i + 8 <= count; i += 8) {
        const __m256 mean = _mm256_mul_ps(u32_to_float(load256(sum_i + i)), vinv);
        const __m256 corr = _mm256_mul_ps(u32_to_float(load256(sum_ii + i)), vinv);
        const __m256 var = std_max(_mm256_sub_ps(corr, _mm256_mul_ps(mean, mean)), zero);
        const __m256 a = _mm256_div_ps(var, _mm256_add_ps(var, veps));
        const __m256 b = _mm256_sub_ps(mean, _mm256_mul_ps(a, mean));
        const __m256 a_out = _mm256_add_ps(_mm256_mul_ps(a, a_scale), half);
        const __m256 b_out = _mm256_add_ps(_mm256_mul_ps(std_max(b, zero), b_scale), half);
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(a_q + i), float_to_u32(a_out));
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(b_q + i), float_to_u32(b_out));
    }
    if (i < count)
        guided_coefficients_scalar(sum_i + i, sum_ii + i, count - i, inv_n, eps, a_q + i, b_q + i);
}

}  // namespace facekit::kernels
