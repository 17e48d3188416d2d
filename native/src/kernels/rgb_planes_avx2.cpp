// AVX2 paths of the multi-band blend's split and join (rgb_planes.cpp is the reference):
// eight pixels (24 bytes) at a time, each channel's bytes gathered by two byte shuffles (and
// scattered back the same way); the float operations are the reference's, in its order.
#include "kernels/fusion_kernels.h"
#include "kernels/simd_avx2.h"

namespace facekit::kernels {

namespace {

// Shuffle indices that pick channel c of pixels 0..7 from bytes 0..15 (lo) and 8..23 (hi) of
// eight RGB pixels; -128 (bit 7 set) writes a zero.
inline __m128i pick(int c, bool high) {
    alignas(16) std::int8_t idx[16];
    for (int k = 0; k < 16; ++k) {
        const int at = c + 3 * k;
        idx[k] = static_cast<std::int8_t>(k >= 8 ? -128 : high ? (at >= 8 ? at - 8 : -128) : (at < 8 ? at : -128));
    }
    return _mm_load_si128(reinterpret_cast<const __m128i*>(idx));
}

// Channel c of eight RGB pixels at p, as floats.
inline __m256 channel(const std::uint8_t* p, const __m128i lo_idx, const __m128i hi_idx) {
    const __m128i bytes = _mm_or_si128(_mm_shuffle_epi8(load128(p), lo_idx),
                                       _mm_shuffle_epi8(load128(p + 8), hi_idx));
    return _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(bytes));
}

struct Picks {
    __m128i lo[3], hi[3];
    Picks() {
        for (int c = 0; c < 3; ++c) lo[c] = pick(c, false), hi[c] = pick(c, true);
    }
};

}  // namespace

void rgb_difference_avx2(const std::uint8_t* top, const std::uint8_t* base, std::size_t count,
                         float* r, float* g, float* b) {
    const Picks picks;
    float* planes[3] = {r, g, b};
    std::size_t i = 0;
    for (; i + 8 <= count; i += 8)
        for (int c = 0; c < 3; ++c)
            _mm256_storeu_ps(planes[c] + i,
                             _mm256_sub_ps(channel(top + 3 * i, picks.lo[c], picks.hi[c]),
                                           channel(base + 3 * i, picks.lo[c], picks.hi[c])));
    if (i < count) rgb_difference_scalar(top + 3 * i, base + 3 * i, count - i, r + i, g + i, b + i);
}

void rgb_add_round_avx2(const std::uint8_t* base, const float* r, const float* g, const float* b,
                        std::size_t count, std::uint8_t* out) {
    const Picks picks;
    const float* planes[3] = {r, g, b};
    const __m256 zero = _mm256_setzero_ps(), top = _mm256_set1_ps(255.0f),
                 half = _mm256_set1_ps(0.5f);
    // Output byte j of 24 (pixel j / 3, channel j % 3) from the packed channels: red in bytes
    // 0..7 and green in 8..15 of `rg`, blue in 0..7 of `bb`.
    alignas(16) std::int8_t rg_idx[32], b_idx[32];
    for (int j = 0; j < 32; ++j) rg_idx[j] = b_idx[j] = -128;  // bytes 24..31 go unused
    for (int j = 0; j < 24; ++j) {
        const int pixel = j / 3, c = j % 3;
        rg_idx[j] = static_cast<std::int8_t>(c == 2 ? -128 : c * 8 + pixel);
        b_idx[j] = static_cast<std::int8_t>(c == 2 ? pixel : -128);
    }
    const __m128i rg_lo = _mm_load_si128(reinterpret_cast<const __m128i*>(rg_idx));
    const __m128i rg_hi = _mm_load_si128(reinterpret_cast<const __m128i*>(rg_idx + 16));
    const __m128i b_lo = _mm_load_si128(reinterpret_cast<const __m128i*>(b_idx));
    const __m128i b_hi = _mm_load_si128(reinterpret_cast<const __m128i*>(b_idx + 16));
    std::size_t i = 0;
    for (; i + 8 <= count; i += 8) {
        __m128i bytes[3];
        for (int c = 0; c < 3; ++c) {
            const __m256 v = _mm256_add_ps(channel(base + 3 * i, picks.lo[c], picks.hi[c]),
                                           _mm256_loadu_ps(planes[c] + i));
            // max(v, 0) gives 0 for NaN, as the reference's std::max(0.0f, v).
            const __m256 clamped = _mm256_min_ps(_mm256_max_ps(v, zero), top);
            const __m128i words = pack_u16(_mm256_cvttps_epi32(_mm256_add_ps(clamped, half)));
            bytes[c] = _mm_packus_epi16(words, words);  // 8 bytes, twice
        }
        const __m128i rg = _mm_unpacklo_epi64(bytes[0], bytes[1]);
        const __m128i lo = _mm_or_si128(_mm_shuffle_epi8(rg, rg_lo), _mm_shuffle_epi8(bytes[2], b_lo));
        const __m128i hi = _mm_or_si128(_mm_shuffle_epi8(rg, rg_hi), _mm_shuffle_epi8(bytes[2], b_hi));
        _mm_storeu_si128(reinterpret_cast<__m128i*>(out + 3 * i), lo);
        _mm_storel_epi64(reinterpret_cast<__m128i*>(out + 3 * i + 16), hi);
    }
    if (i < count) rgb_add_round_scalar(base + 3 * i, r + i, g + i, b + i, count - i, out + 3 * i);
}

}  // namespace facekit::kernels
