// AVX2 path of the product of two 8-bit masks (mask_product.cpp is the reference). With
// x = a * b (at most 65025) and t = x + 128, (x + 127) / 255 == (t + (t >> 8)) >> 8 for every
// x in range (the test checks all 65536 pairs), all in 16-bit lanes without overflow.
#include "kernels/simd_avx2.h"

namespace facekit::kernels {

namespace {

inline __m256i product16(__m256i a, __m256i b) {
    const __m256i t = _mm256_add_epi16(_mm256_mullo_epi16(a, b), _mm256_set1_epi16(128));
    return _mm256_srli_epi16(_mm256_add_epi16(t, _mm256_srli_epi16(t, 8)), 8);
}

}  // namespace

void mask_product_avx2(const std::uint8_t* a, const std::uint8_t* b, std::size_t count,
                       std::uint8_t* out) {
    std::size_t i = 0;
    for (; i + 32 <= count; i += 32) {
        const __m256i va = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(a + i));
        const __m256i vb = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b + i));
        const __m256i lo = product16(_mm256_cvtepu8_epi16(_mm256_castsi256_si128(va)),
                                     _mm256_cvtepu8_epi16(_mm256_castsi256_si128(vb)));
        const __m256i hi = product16(_mm256_cvtepu8_epi16(_mm256_extracti128_si256(va, 1)),
                                     _mm256_cvtepu8_epi16(_mm256_extracti128_si256(vb, 1)));
        // packus interleaves the 128-bit lanes: restore the order.
        const __m256i packed = _mm256_permute4x64_epi64(_mm256_packus_epi16(lo, hi), 0xD8);
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + i), packed);
    }
    if (i < count) mask_product_scalar(a + i, b + i, count - i, out + i);
}

}  // namespace facekit::kernels
