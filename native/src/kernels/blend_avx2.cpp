// AVX2 path of blending a target into an image through a mask (blend.cpp is the reference;
// simd_avx2.h says how every path stays bit-identical to it).
#include "kernels/simd_avx2.h"

namespace facekit::kernels {

namespace {

// out = a + (((t - a) * w + 128) >> 8) = ((a << 8) + (t - a) * w + 128) >> 8: 256a is a multiple
// of 256, so adding it inside the floor shift changes nothing. The inner value is
// a * (256 - w) + t * w + 128, in [128, 65408] for w <= 255, so 16-bit lanes computing it
// modulo 2^16 (the product (t - a) * w may wrap) hold it exactly, and a logical shift ends it.

template <int Channels>
std::size_t blend_blocks(const std::uint8_t* in, const std::uint8_t* target,
                         const std::uint8_t* mask, int weight_q8, std::size_t count,
                         std::uint8_t* out) {
    // For each 16-byte group k of a 16-pixel block, the pixel each byte belongs to.
    __m128i spread[Channels];
    for (int k = 0; k < Channels; ++k) {
        alignas(16) std::uint8_t idx[16];
        for (int j = 0; j < 16; ++j) idx[j] = static_cast<std::uint8_t>((16 * k + j) / Channels);
        spread[k] = _mm_load_si128(reinterpret_cast<const __m128i*>(idx));
    }
    const __m256i weight = _mm256_set1_epi16(static_cast<short>(weight_q8));
    const __m256i round = _mm256_set1_epi16(128);
    std::size_t i = 0;
    for (; i + 16 <= count; i += 16) {
        // w = (mask * weight + 128) >> 8: mask * weight <= 65280, so 16 bits hold it exactly.
        const __m256i m = _mm256_cvtepu8_epi16(load128(mask + i));
        const __m256i w16 =
            _mm256_srli_epi16(_mm256_add_epi16(_mm256_mullo_epi16(m, weight), round), 8);
        const __m128i w8 = pack_u8(w16);
        const std::size_t at = i * Channels;
        for (int k = 0; k < Channels; ++k) {
            const std::size_t o = at + 16 * static_cast<std::size_t>(k);
            const __m256i a = _mm256_cvtepu8_epi16(load128(in + o));
            const __m256i t = _mm256_cvtepu8_epi16(load128(target + o));
            const __m256i w = _mm256_cvtepu8_epi16(_mm_shuffle_epi8(w8, spread[k]));
            const __m256i v = _mm256_srli_epi16(
                _mm256_add_epi16(_mm256_add_epi16(_mm256_slli_epi16(a, 8),
                                                  _mm256_mullo_epi16(_mm256_sub_epi16(t, a), w)),
                                 round),
                8);
            _mm_storeu_si128(reinterpret_cast<__m128i*>(out + o), pack_u8(v));
        }
    }
    return i;
}

}  // namespace

void blend_avx2(const std::uint8_t* in, const std::uint8_t* target, const std::uint8_t* mask,
                int weight_q8, std::size_t count, int channels, std::uint8_t* out) {
    std::size_t done = 0;
    if (weight_q8 >= 0 && weight_q8 <= 256) {  // the documented range: 16-bit lanes are exact
        done = with_channels(
            channels,
            [&](auto c) {
                return blend_blocks<decltype(c)::value>(in, target, mask, weight_q8, count, out);
            },
            [] { return std::size_t{0}; });
    }
    if (done < count) {
        const std::size_t at = done * static_cast<std::size_t>(channels);
        blend_scalar(in + at, target + at, mask + done, weight_q8, count - done, channels,
                     out + at);
    }
}

}  // namespace facekit::kernels
