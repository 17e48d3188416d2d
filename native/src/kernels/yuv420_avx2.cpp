// AVX2 paths of the yuv420p <-> RGB rows (yuv420.cpp is the reference): eight pixels (or eight
// chroma samples) at a time in int32 lanes, the reference's integer sums exactly; packus
// saturation is its clamp to 0..255. Row tails go to the scalar spans.
#include "kernels/simd_avx2.h"
#include "kernels/video_kernels.h"

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

struct Picks {
    __m128i lo[3], hi[3];
    Picks() {
        for (int c = 0; c < 3; ++c) lo[c] = pick(c, false), hi[c] = pick(c, true);
    }
    // Channel c of the eight RGB pixels at p, as int32.
    __m256i channel(const std::uint8_t* p, int c) const {
        return _mm256_cvtepu8_epi32(_mm_or_si128(_mm_shuffle_epi8(load128(p), lo[c]),
                                                 _mm_shuffle_epi8(load128(p + 8), hi[c])));
    }
};

inline __m256i bytes8(const std::uint8_t* p) {
    return _mm256_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(p)));
}

// The eight int32 lanes saturated to bytes 0..7 (and 8..15).
inline __m128i to_bytes(__m256i v) {
    const __m128i words = pack_u16(v);
    return _mm_packus_epi16(words, words);
}

inline __m256i mul(__m256i a, std::int32_t k) { return _mm256_mullo_epi32(a, _mm256_set1_epi32(k)); }

}  // namespace

void yuv_to_rgb_row_avx2(const std::uint8_t* y, const std::uint8_t* u0, const std::uint8_t* u1,
                         const std::uint8_t* v0, const std::uint8_t* v1, int width,
                         const YuvCoefficients& k, std::uint8_t* rgb) {
    // Output byte j of 24 (pixel j / 3, channel j % 3) from red in bytes 0..7 and green in
    // 8..15 of `rg`, blue in 0..7 of `bb`.
    alignas(16) std::int8_t rg_idx[32], b_idx[32];
    for (int j = 0; j < 32; ++j) rg_idx[j] = b_idx[j] = -128;
    for (int j = 0; j < 24; ++j) {
        const int pixel = j / 3, c = j % 3;
        rg_idx[j] = static_cast<std::int8_t>(c == 2 ? -128 : c * 8 + pixel);
        b_idx[j] = static_cast<std::int8_t>(c == 2 ? pixel : -128);
    }
    const __m128i rg_lo = _mm_load_si128(reinterpret_cast<const __m128i*>(rg_idx));
    const __m128i rg_hi = _mm_load_si128(reinterpret_cast<const __m128i*>(rg_idx + 16));
    const __m128i b_lo = _mm_load_si128(reinterpret_cast<const __m128i*>(b_idx));
    const __m128i b_hi = _mm_load_si128(reinterpret_cast<const __m128i*>(b_idx + 16));
    // Pixel x of eight (samples from i - 1 in the lanes) uses lane x / 2 + 1 and its far lane.
    const __m256i near_idx = _mm256_setr_epi32(1, 1, 2, 2, 3, 3, 4, 4);
    const __m256i far_idx = k.centred ? _mm256_setr_epi32(0, 2, 1, 3, 2, 4, 3, 5)
                                      : _mm256_setr_epi32(1, 2, 2, 3, 3, 4, 4, 5);
    const std::int32_t near_w = k.centred ? 3 : 2, far_w = k.centred ? 1 : 2;
    const __m256i offset = _mm256_set1_epi32(k.y_offset), bias = _mm256_set1_epi32(1 << 19),
                  centre = _mm256_set1_epi32(2048);
    auto upsampled = [&](const std::uint8_t* c0, const std::uint8_t* c1, int i) {
        const __m256i nearest = bytes8(c0 + i - 1);
        const __m256i s = _mm256_add_epi32(_mm256_add_epi32(_mm256_slli_epi32(nearest, 1), nearest),
                                           bytes8(c1 + i - 1));
        return _mm256_sub_epi32(_mm256_add_epi32(mul(_mm256_permutevar8x32_epi32(s, near_idx), near_w),
                                                 mul(_mm256_permutevar8x32_epi32(s, far_idx), far_w)),
                                centre);
    };
    const int samples = (width + 1) / 2;
    // Vectors read samples i - 1..i + 4 (the loads take eight from i - 1, so i + 7 <= samples):
    // the first two pixels (i = 0) go to the scalar span.
    const int head = width < 2 ? width : 2;
    yuv_to_rgb_span_scalar(y, u0, u1, v0, v1, width, 0, head, k, rgb);
    int x = head;
    for (; x + 8 <= width && x / 2 + 7 <= samples; x += 8) {
        const __m256i u16 = upsampled(u0, u1, x / 2), v16 = upsampled(v0, v1, x / 2);
        const __m256i luma =
            _mm256_add_epi32(mul(_mm256_sub_epi32(bytes8(y + x), offset), k.y_gain), bias);
        const __m256i r = _mm256_srai_epi32(_mm256_add_epi32(luma, mul(v16, k.r_v)), 20);
        const __m256i g = _mm256_srai_epi32(
            _mm256_add_epi32(_mm256_add_epi32(luma, mul(u16, k.g_u)), mul(v16, k.g_v)), 20);
        const __m256i b = _mm256_srai_epi32(_mm256_add_epi32(luma, mul(u16, k.b_u)), 20);
        const __m128i rg = _mm_unpacklo_epi64(to_bytes(r), to_bytes(g)), bb = to_bytes(b);
        const __m128i lo = _mm_or_si128(_mm_shuffle_epi8(rg, rg_lo), _mm_shuffle_epi8(bb, b_lo));
        const __m128i hi = _mm_or_si128(_mm_shuffle_epi8(rg, rg_hi), _mm_shuffle_epi8(bb, b_hi));
        _mm_storeu_si128(reinterpret_cast<__m128i*>(rgb + 3 * x), lo);
        _mm_storel_epi64(reinterpret_cast<__m128i*>(rgb + 3 * x + 16), hi);
    }
    if (x < width) yuv_to_rgb_span_scalar(y, u0, u1, v0, v1, width, x, width, k, rgb);
}

void rgb_to_y_row_avx2(const std::uint8_t* rgb, int width, const YuvCoefficients& k,
                       std::uint8_t* y) {
    const Picks picks;
    const __m256i bias = _mm256_set1_epi32(k.y_bias);
    int x = 0;
    for (; x + 8 <= width; x += 8) {
        const std::uint8_t* p = rgb + 3 * x;
        const __m256i sum = _mm256_add_epi32(
            _mm256_add_epi32(_mm256_add_epi32(mul(picks.channel(p, 0), k.y_r),
                                              mul(picks.channel(p, 1), k.y_g)),
                             mul(picks.channel(p, 2), k.y_b)),
            bias);
        _mm_storel_epi64(reinterpret_cast<__m128i*>(y + x), to_bytes(_mm256_srai_epi32(sum, 16)));
    }
    if (x < width) rgb_to_y_span_scalar(rgb, width, x, k, y);
}

void rgb_to_uv_row_avx2(const std::uint8_t* r0, const std::uint8_t* r1, const std::uint8_t* r2,
                        const std::uint8_t* r3, int width, const YuvCoefficients& k,
                        std::uint8_t* u, std::uint8_t* v) {
    const Picks picks;
    const __m256i bias = _mm256_set1_epi32(k.c_bias);
    // Channel c of pixels at byte offset `at` of the four rows, weighted 1, 3, 3, 1.
    auto column = [&](int at, int c) {
        const __m256i middle = _mm256_add_epi32(picks.channel(r1 + at, c), picks.channel(r2 + at, c));
        return _mm256_add_epi32(
            _mm256_add_epi32(picks.channel(r0 + at, c), picks.channel(r3 + at, c)),
            _mm256_add_epi32(_mm256_slli_epi32(middle, 1), middle));
    };
    int i = 0;
    for (; 2 * i + 16 <= width; i += 8) {
        __m256i s[3];
        for (int c = 0; c < 3; ++c) {
            // Pairs of pixels 0..7 and 8..15: hadd interleaves 128-bit halves, permute restores.
            const __m256i pairs = _mm256_hadd_epi32(column(6 * i, c), column(6 * i + 24, c));
            s[c] = _mm256_permute4x64_epi64(pairs, 0xD8);
        }
        const __m256i su = _mm256_add_epi32(
            _mm256_add_epi32(_mm256_add_epi32(mul(s[0], k.u_r), mul(s[1], k.u_g)), mul(s[2], k.u_b)),
            bias);
        const __m256i sv = _mm256_add_epi32(
            _mm256_add_epi32(_mm256_add_epi32(mul(s[0], k.v_r), mul(s[1], k.v_g)), mul(s[2], k.v_b)),
            bias);
        _mm_storel_epi64(reinterpret_cast<__m128i*>(u + i), to_bytes(_mm256_srai_epi32(su, 20)));
        _mm_storel_epi64(reinterpret_cast<__m128i*>(v + i), to_bytes(_mm256_srai_epi32(sv, 20)));
    }
    if (2 * i < width) rgb_to_uv_span_scalar(r0, r1, r2, r3, width, i, k, u, v);
}

}  // namespace facekit::kernels
