// AVX2 path of the skin likelihood (skin_likelihood.cpp is the reference): the same float
// operations in the same order, eight pixels at a time (IEEE division, floor, min and max give
// the same bits as the scalar code; contraction is off).
#include "kernels/simd_avx2.h"

namespace facekit::kernels {

void skin_likelihood_avx2(const std::uint8_t* rgb, const std::uint8_t* face, std::size_t count,
                          const SkinColour& m, std::uint8_t* likelihood, std::uint8_t* colour) {
    const __m256i offsets = _mm256_setr_epi32(0, 3, 6, 9, 12, 15, 18, 21);
    const __m256i byte = _mm256_set1_epi32(0xFF);
    const __m256 zero = _mm256_setzero_ps(), one = _mm256_set1_ps(1.0f),
                 half = _mm256_set1_ps(0.5f), full = _mm256_set1_ps(255.0f);
    const __m256 abs_mask = _mm256_castsi256_ps(_mm256_set1_epi32(0x7FFFFFFF));
    std::size_t i = 0;
    // i + 9 <= count: the gather reads four bytes at each pixel, one past the last pixel's.
    for (; i + 9 <= count; i += 8) {
        const __m256i px = _mm256_i32gather_epi32(reinterpret_cast<const int*>(rgb + 3 * i), offsets, 1);
        const __m256i ri = _mm256_and_si256(px, byte);
        const __m256i gi = _mm256_and_si256(_mm256_srli_epi32(px, 8), byte);
        const __m256i bi = _mm256_and_si256(_mm256_srli_epi32(px, 16), byte);
        const __m256i si = _mm256_add_epi32(_mm256_add_epi32(ri, gi), bi);
        const __m256 r = _mm256_cvtepi32_ps(ri), g = _mm256_cvtepi32_ps(gi);
        const __m256 nonzero = _mm256_castsi256_ps(
            _mm256_xor_si256(_mm256_cmpeq_epi32(si, _mm256_setzero_si256()), _mm256_set1_epi32(-1)));
        const __m256 inv = _mm256_div_ps(full, _mm256_cvtepi32_ps(si));
        const __m256 cr = _mm256_and_ps(nonzero, _mm256_floor_ps(_mm256_add_ps(_mm256_mul_ps(r, inv), half)));
        const __m256 cg = _mm256_and_ps(nonzero, _mm256_floor_ps(_mm256_add_ps(_mm256_mul_ps(g, inv), half)));
        const __m256 d = _mm256_add_ps(
            _mm256_mul_ps(_mm256_and_ps(_mm256_sub_ps(cr, _mm256_set1_ps(m.r)), abs_mask), _mm256_set1_ps(m.scale_r)),
            _mm256_mul_ps(_mm256_and_ps(_mm256_sub_ps(cg, _mm256_set1_ps(m.g)), abs_mask), _mm256_set1_ps(m.scale_g)));
        const __m256 tight = _mm256_min_ps(_mm256_max_ps(
            _mm256_mul_ps(_mm256_sub_ps(_mm256_set1_ps(m.zero_in), d), _mm256_set1_ps(m.ramp_in)), zero), one);
        const __m256 loose = _mm256_min_ps(_mm256_max_ps(
            _mm256_mul_ps(_mm256_sub_ps(_mm256_set1_ps(m.zero_out), d), _mm256_set1_ps(m.ramp_out)), zero), one);
        const __m256 f = _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(
            _mm_loadl_epi64(reinterpret_cast<const __m128i*>(face + i))));
        const __m256 like = _mm256_add_ps(_mm256_mul_ps(tight, f), _mm256_mul_ps(loose, _mm256_sub_ps(full, f)));
        const __m256i yi = _mm256_srli_epi32(
            _mm256_add_epi32(_mm256_add_epi32(_mm256_mullo_epi32(ri, _mm256_set1_epi32(77)),
                                              _mm256_mullo_epi32(gi, _mm256_set1_epi32(150))),
                             _mm256_add_epi32(_mm256_mullo_epi32(bi, _mm256_set1_epi32(29)),
                                              _mm256_set1_epi32(128))), 8);
        const __m256 dark = _mm256_min_ps(_mm256_max_ps(_mm256_mul_ps(
            _mm256_sub_ps(_mm256_cvtepi32_ps(yi), _mm256_set1_ps(m.dark_lo)), _mm256_set1_ps(m.dark_ramp)), zero), one);
        alignas(32) std::int32_t out_colour[8], out_like[8];
        _mm256_store_si256(reinterpret_cast<__m256i*>(out_colour),
                           _mm256_cvttps_epi32(_mm256_floor_ps(_mm256_add_ps(like, half))));
        _mm256_store_si256(reinterpret_cast<__m256i*>(out_like),
                           _mm256_cvttps_epi32(_mm256_floor_ps(_mm256_add_ps(_mm256_mul_ps(like, dark), half))));
        for (int k = 0; k < 8; ++k) {
            colour[i + k] = static_cast<std::uint8_t>(out_colour[k]);
            likelihood[i + k] = static_cast<std::uint8_t>(out_like[k]);
        }
    }
    if (i < count) skin_likelihood_scalar(rgb + 3 * i, face + i, count - i, m, likelihood + i, colour + i);
}

}  // namespace facekit::kernels
