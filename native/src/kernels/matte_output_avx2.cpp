// AVX2 path of the portrait matte's output row (matte_output.cpp is the reference; simd_avx2.h
// says how every path stays bit-identical to it).
#include "kernels/portrait_kernels.h"
#include "kernels/simd_avx2.h"

namespace facekit::kernels {

namespace {

// Guide bytes of 8 elements `Stride` apart, as int32 lanes. Strides 3 and 4 read the whole span
// up to the next element's first byte (the caller guarantees one follows).
template <int Stride>
inline __m256i guide8(const std::uint8_t* g) {
    if constexpr (Stride == 1) {
        return _mm256_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(g)));
    } else if constexpr (Stride == 3) {
        const __m128i a = load128(g);                                                 // 0..5
        const __m128i b = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(g + 16));  // 6, 7
        const __m128i pa =
            _mm_setr_epi8(0, 3, 6, 9, 12, 15, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1);
        const __m128i pb =
            _mm_setr_epi8(-1, -1, -1, -1, -1, -1, 2, 5, -1, -1, -1, -1, -1, -1, -1, -1);
        return _mm256_cvtepu8_epi32(
            _mm_or_si128(_mm_shuffle_epi8(a, pa), _mm_shuffle_epi8(b, pb)));
    } else {
        return _mm256_and_si256(load256(g), _mm256_set1_epi32(0xFF));
    }
}

// Returns how many leading elements it wrote (a multiple of 8); the caller does the rest.
template <int Stride>
std::size_t blocks(const float* a0, const float* a1, const float* b0, const float* b1, float wy,
                   const std::uint8_t* guide, std::size_t count, std::uint8_t* out) {
    const __m256 vy = _mm256_set1_ps(wy);
    const __m256 zero = _mm256_setzero_ps(), top = _mm256_set1_ps(255.0f);
    const __m256 half = _mm256_set1_ps(0.5f);
    const std::size_t reach = Stride == 1 ? 8 : 9;
    std::size_t i = 0;
    for (; i + reach <= count; i += 8) {
        const __m256 ta = _mm256_loadu_ps(a0 + i), tb = _mm256_loadu_ps(b0 + i);
        const __m256 a = _mm256_add_ps(ta, _mm256_mul_ps(_mm256_sub_ps(_mm256_loadu_ps(a1 + i), ta), vy));
        const __m256 b = _mm256_add_ps(tb, _mm256_mul_ps(_mm256_sub_ps(_mm256_loadu_ps(b1 + i), tb), vy));
        const __m256 g = _mm256_cvtepi32_ps(guide8<Stride>(guide + i * Stride));
        const __m256 q = _mm256_add_ps(_mm256_mul_ps(a, g), b);
        const __m256i v = _mm256_cvttps_epi32(_mm256_add_ps(std_clamp(q, zero, top), half));
        const __m128i w16 = pack_u16(v);
        _mm_storel_epi64(reinterpret_cast<__m128i*>(out + i), _mm_packus_epi16(w16, w16));
    }
    return i;
}

}  // namespace

void matte_output_avx2(const float* a0, const float* a1, const float* b0, const float* b1,
                       float wy, const std::uint8_t* guide, int pixel_stride, std::size_t count,
                       std::uint8_t* out) {
    std::size_t done = 0;
    if (pixel_stride == 1) done = blocks<1>(a0, a1, b0, b1, wy, guide, count, out);
    if (pixel_stride == 3) done = blocks<3>(a0, a1, b0, b1, wy, guide, count, out);
    if (pixel_stride == 4) done = blocks<4>(a0, a1, b0, b1, wy, guide, count, out);
    if (done < count)
        matte_output_scalar(a0 + done, a1 + done, b0 + done, b1 + done, wy,
                            guide + done * static_cast<std::size_t>(pixel_stride), pixel_stride,
                            count - done, out + done);
}

}  // namespace facekit::kernels
