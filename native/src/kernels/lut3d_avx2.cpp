// AVX2 path of a trilinear 3D colour LUT (lut3d.cpp is the reference; simd_avx2.h says how every
// path stays bit-identical to it).
#include "kernels/simd_avx2.h"

namespace facekit::kernels {

namespace {

// 8 pixels per block; 16-bit lanes for the positions, 32-bit lanes (one pixel each) after.
//   Position: q = v * cells (<= 65025), p = (256q + 127) / 255 = q + (q + 127) / 255, where
//   y / 255 = (y * 0x8081) >> 23 exactly for y < 66052 (the error y * 127 / (255 * 2^23) stays
//   under 1/255); index = min(p >> 8, cells - 1), f = p - 256 index, as the reference.
//   Corners: the 8 entries of a pixel are 4 pairs (dr = 0, 1) of 6 bytes, one per (dg, db); each
//   pair is read as one 8-byte word with scalar-addressed loads (no vpgatherdd: slow here). The
//   last pair of the LUT ends at its last byte, so the (1, 1) pair (the only one that can be it)
//   is read from 2 bytes before it (never before the LUT: that pair starts at >= 3 size + 3 size^2
//   - 2 > 0) and picked 2 bytes further on.
//   Sum, exact in integers (the reference's sum < 255 * 2^24 + 2^23 < 2^32, so any grouping and
//   any wrapping modulo 2^32 give it):
//     S1 = (256 - fr) e0 + fr e1                 (pmaddwd of (e0, e1), (256 - fr, fr): <= 65280)
//     S2 = (256 - fg) S1(g0) + fg S1(g1) - 2^23  (pmaddwd of the pair (S1 - 32768) as int16;
//                                                 the weights add up to 256: the offset is 2^23)
//     S  = 256 S2(b0) + fb (S2(b1) - S2(b0)) = (M0 << 8) + 2^31 + fb (M1 - M0) with M = S2 - 2^23
//   and out = (S + 2^23) >> 24.
//   Lane layouts: the words of pixels {0, 1 | 4, 5} (vector A) and {2, 3 | 6, 7} (vector B) give,
//   by pshufb, channels 0 and 1 of A's pixels (layout L1: pixels 0 1 0 1 | 4 5 4 5, channels
//   0 0 1 1), of B's (L2: 2 3 2 3 | 6 7 6 7) and channel 2 of all (L3: 0 1 2 3 | 4 5 6 7, from
//   both); the weights are permuted into the same three layouts.

// pshufb control picking the (e0, e1) byte pairs (zero-extended to 16 bits, one pair a dword)
// from 8-byte words at `shift` in the 2 pixel words of each 128-bit lane. which = 0: channels 0
// and 1 of both pixels (dword d: pixel d & 1, channel d >> 1); 1: channel 2 of both pixels into
// dwords 0, 1; 2: the same into dwords 2, 3.
__m256i lut_pick(int which, int shift) {
    alignas(32) std::int8_t idx[32];
    for (int lane = 0; lane < 2; ++lane)
        for (int d = 0; d < 4; ++d) {
            int pixel = -1, channel = 0;
            if (which == 0) {
                pixel = d & 1;
                channel = d >> 1;
            } else if ((which == 1 && d < 2) || (which == 2 && d >= 2)) {
                pixel = d & 1;
                channel = 2;
            }
            std::int8_t* o = idx + 16 * lane + 4 * d;
            o[1] = o[3] = -1;
            o[0] = pixel < 0 ? -1 : static_cast<std::int8_t>(8 * pixel + shift + channel);
            o[2] = pixel < 0 ? -1 : static_cast<std::int8_t>(8 * pixel + shift + 3 + channel);
        }
    return _mm256_load_si256(reinterpret_cast<const __m256i*>(idx));
}

// Index and weight of 16 channel values (16-bit lanes), as the reference computes them.
inline void lut_positions(__m256i v, __m256i cells, __m256i last, __m256i& index, __m256i& f) {
    const __m256i q = _mm256_mullo_epi16(v, cells);
    const __m256i y = _mm256_add_epi16(q, _mm256_set1_epi16(127));
    const __m256i p = _mm256_add_epi16(
        q, _mm256_srli_epi16(_mm256_mulhi_epu16(y, _mm256_set1_epi16(static_cast<short>(0x8081))),
                             7));
    index = _mm256_min_epu16(_mm256_srli_epi16(p, 8), last);
    f = _mm256_sub_epi16(p, _mm256_slli_epi16(index, 8));
}

// (256 - f) | f << 16 in 32-bit lanes: the pmaddwd weight pair.
inline __m256i weight_pair(__m256i f32) {
    return _mm256_or_si256(_mm256_sub_epi32(_mm256_set1_epi32(256), f32),
                           _mm256_slli_epi32(f32, 16));
}

// Returns how many leading pixels it wrote (a multiple of 8); 2 <= size <= 256.
std::size_t lut3d_blocks(const std::uint8_t* in, std::size_t count, const std::uint8_t* lut,
                         int size, std::uint8_t* out) {
    const __m256i cells = _mm256_set1_epi16(static_cast<short>(size - 1));
    const __m256i last = _mm256_set1_epi16(static_cast<short>(size - 2));
    const std::int32_t row3 = 3 * size, plane3 = 3 * size * size;
    const __m256i vrow3 = _mm256_set1_epi32(row3), vplane3 = _mm256_set1_epi32(plane3);
    // Word offsets of the pairs (dg, db) = (0, 0), (1, 0), (0, 1), (1, 1) from the cell's base.
    const std::ptrdiff_t delta[4] = {0, row3, plane3, row3 + plane3 - 2};
    const __m256i pick01[2] = {lut_pick(0, 0), lut_pick(0, 2)};
    const __m256i pick2a[2] = {lut_pick(1, 0), lut_pick(1, 2)};
    const __m256i pick2b[2] = {lut_pick(2, 0), lut_pick(2, 2)};
    const __m256i sign_flip = _mm256_set1_epi32(static_cast<int>(0x80008000u));
    const __m256i round = _mm256_set1_epi32(static_cast<int>(0x80800000u));  // 2^31 + 2^23
    // Deinterleaving 24 bytes (16 + 8) into r0..r7 g0..g7 and b0..b7.
    const __m128i rg_lo = _mm_setr_epi8(0, 3, 6, 9, 12, 15, -1, -1, 1, 4, 7, 10, 13, -1, -1, -1);
    const __m128i rg_hi = _mm_setr_epi8(-1, -1, -1, -1, -1, -1, 2, 5, -1, -1, -1, -1, -1, 0, 3, 6);
    const __m128i b_lo = _mm_setr_epi8(2, 5, 8, 11, 14, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1);
    const __m128i b_hi = _mm_setr_epi8(-1, -1, -1, -1, -1, 1, 4, 7, -1, -1, -1, -1, -1, -1, -1, -1);
    // Bytes [px0c0 px1c0 px0c1 px1c1 px2c0 px3c0 px2c1 px3c1 px0c2 px1c2 px2c2 px3c2] of a lane
    // into RGB order.
    const __m256i to_rgb = _mm256_setr_epi8(0, 2, 8, 1, 3, 9, 4, 6, 10, 5, 7, 11, -1, -1, -1, -1,
                                            0, 2, 8, 1, 3, 9, 4, 6, 10, 5, 7, 11, -1, -1, -1, -1);
    const __m256i compact = _mm256_setr_epi32(0, 1, 2, 4, 5, 6, 3, 7);

    alignas(32) std::int32_t base[8];
    const std::uint8_t* cell_at[8];
    auto word = [&](const std::uint8_t* at) {
        return _mm256_broadcastq_epi64(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(at)));
    };
    // Words at cell p0 + d, p1 + d | p2 + d, p3 + d (qwords 0, 1 | 2, 3).
    auto words = [&](std::ptrdiff_t d, int p0, int p1, int p2, int p3) {
        const __m256i lo =
            _mm256_blend_epi32(word(cell_at[p0] + d), word(cell_at[p1] + d), 0x0C);
        const __m256i hi =
            _mm256_blend_epi32(word(cell_at[p2] + d), word(cell_at[p3] + d), 0xC0);
        return _mm256_blend_epi32(lo, hi, 0xF0);
    };

    std::size_t i = 0;
    for (; i + 8 <= count; i += 8) {
        const std::uint8_t* src = in + 3 * i;
        const __m128i lo = load128(src);
        const __m128i hi = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(src + 16));
        const __m128i rg = _mm_or_si128(_mm_shuffle_epi8(lo, rg_lo), _mm_shuffle_epi8(hi, rg_hi));
        const __m128i b = _mm_or_si128(_mm_shuffle_epi8(lo, b_lo), _mm_shuffle_epi8(hi, b_hi));
        __m256i index_rg, f_rg, index_b, f_b;
        lut_positions(_mm256_cvtepu8_epi16(rg), cells, last, index_rg, f_rg);
        lut_positions(_mm256_cvtepu8_epi16(b), cells, last, index_b, f_b);
        const __m256i ir = _mm256_cvtepu16_epi32(_mm256_castsi256_si128(index_rg));
        const __m256i ig = _mm256_cvtepu16_epi32(_mm256_extracti128_si256(index_rg, 1));
        const __m256i ib = _mm256_cvtepu16_epi32(_mm256_castsi256_si128(index_b));
        const __m256i cell = _mm256_add_epi32(
            _mm256_add_epi32(_mm256_add_epi32(ir, _mm256_slli_epi32(ir, 1)),
                             _mm256_mullo_epi32(ig, vrow3)),
            _mm256_mullo_epi32(ib, vplane3));
        _mm256_store_si256(reinterpret_cast<__m256i*>(base), cell);
        for (int j = 0; j < 8; ++j) cell_at[j] = lut + base[j];
        // Weights in layout L3 (natural order), then L1 and L2.
        const __m256i wr3 = weight_pair(_mm256_cvtepu16_epi32(_mm256_castsi256_si128(f_rg)));
        const __m256i wg3 = weight_pair(_mm256_cvtepu16_epi32(_mm256_extracti128_si256(f_rg, 1)));
        const __m256i fb3 = _mm256_cvtepu16_epi32(_mm256_castsi256_si128(f_b));
        const __m256i wr1 = _mm256_shuffle_epi32(wr3, _MM_SHUFFLE(1, 0, 1, 0));
        const __m256i wr2 = _mm256_shuffle_epi32(wr3, _MM_SHUFFLE(3, 2, 3, 2));
        // Stage 1 for the 4 pairs, in the 3 layouts.
        __m256i s1[4][3];
        for (int k = 0; k < 4; ++k) {
            const int shift = k == 3 ? 1 : 0;
            const __m256i a = words(delta[k], 0, 1, 4, 5), bw = words(delta[k], 2, 3, 6, 7);
            s1[k][0] = _mm256_madd_epi16(_mm256_shuffle_epi8(a, pick01[shift]), wr1);
            s1[k][1] = _mm256_madd_epi16(_mm256_shuffle_epi8(bw, pick01[shift]), wr2);
            s1[k][2] = _mm256_madd_epi16(_mm256_or_si256(_mm256_shuffle_epi8(a, pick2a[shift]),
                                                         _mm256_shuffle_epi8(bw, pick2b[shift])),
                                         wr3);
        }
        const __m256i wg[3] = {_mm256_shuffle_epi32(wg3, _MM_SHUFFLE(1, 0, 1, 0)),
                               _mm256_shuffle_epi32(wg3, _MM_SHUFFLE(3, 2, 3, 2)), wg3};
        const __m256i fb[3] = {_mm256_shuffle_epi32(fb3, _MM_SHUFFLE(1, 0, 1, 0)),
                               _mm256_shuffle_epi32(fb3, _MM_SHUFFLE(3, 2, 3, 2)), fb3};
        __m256i result[3];
        for (int l = 0; l < 3; ++l) {
            // Stages 2 and 3: pairs k = 0, 1 are db = 0, pairs 2, 3 are db = 1.
            const __m256i m0 = _mm256_madd_epi16(
                _mm256_xor_si256(_mm256_or_si256(s1[0][l], _mm256_slli_epi32(s1[1][l], 16)),
                                 sign_flip),
                wg[l]);
            const __m256i m1 = _mm256_madd_epi16(
                _mm256_xor_si256(_mm256_or_si256(s1[2][l], _mm256_slli_epi32(s1[3][l], 16)),
                                 sign_flip),
                wg[l]);
            const __m256i s = _mm256_add_epi32(
                _mm256_slli_epi32(m0, 8), _mm256_mullo_epi32(fb[l], _mm256_sub_epi32(m1, m0)));
            result[l] = _mm256_srli_epi32(_mm256_add_epi32(s, round), 24);
        }
        const __m256i bytes = _mm256_packus_epi16(_mm256_packus_epi32(result[0], result[1]),
                                                  _mm256_packus_epi32(result[2], result[2]));
        const __m256i rgb =
            _mm256_permutevar8x32_epi32(_mm256_shuffle_epi8(bytes, to_rgb), compact);
        std::uint8_t* dst = out + 3 * i;
        _mm_storeu_si128(reinterpret_cast<__m128i*>(dst), _mm256_castsi256_si128(rgb));
        _mm_storel_epi64(reinterpret_cast<__m128i*>(dst + 16), _mm256_extracti128_si256(rgb, 1));
    }
    return i;
}

}  // namespace

void lut3d_avx2(const std::uint8_t* in, std::size_t count, const std::uint8_t* lut, int size,
                std::uint8_t* out) {
    // The 16-bit positions need size - 1 <= 257; int32 offsets need far less. Other sizes (not
    // used by the engine) and tails run the reference.
    const std::size_t done =
        (size >= 2 && size <= 256) ? lut3d_blocks(in, count, lut, size, out) : 0;
    if (done < count) lut3d_scalar(in + 3 * done, count - done, lut, size, out + 3 * done);
}

}  // namespace facekit::kernels
