// NEON (aarch64) path of a trilinear 3D colour LUT (lut3d.cpp is the reference; simd_neon.h says
// how every path stays bit-identical to it).
#include "kernels/simd_neon.h"

namespace facekit::kernels {

namespace {

// 8 pixels per block, one pixel a lane (16-bit lanes, 32-bit from stage 2 on).
//   Position: q = v * cells (<= 65025), p = (256q + 127) / 255 = q + (q + 127) / 255, where
//   y / 255 = (y + 1 + (y >> 8)) >> 8 exactly for y <= 65152 (checked for every y); index =
//   min(p >> 8, cells - 1), f = p - 256 index, as the reference.
//   Corners: the 8 entries of a pixel are 4 pairs (dr = 0, 1) of 6 bytes, one per (dg, db); each
//   pair is read as one 8-byte word. The last pair of the LUT ends at its last byte, so the
//   (1, 1) pair (the only one that can be it) is read from 2 bytes before it (never before the
//   LUT: that pair starts at >= 3 size + 3 size^2 - 2 > 0) and picked 2 bytes further on. The 8
//   pixels' words of a pair are staged in a 64-byte buffer and loaded as one 4-register table
//   (built lane by lane, GCC copies such tables around); vqtbl4q_u8 picks each channel's e0 and
//   e1 across the 8 pixels.
//   Sum, exact (the reference's sum < 255 * 2^24 + 2^23 < 2^32, so any grouping and any wrapping
//   modulo 2^32 give it):
//     S1 = 256 e0 + fr (e1 - e0) = (256 - fr) e0 + fr e1   (<= 65280: 16-bit lanes, modulo 2^16)
//     S2 = (256 - fg) S1(g0) + fg S1(g1)                   (widening 16 x 16 -> 32-bit products)
//     S  = (256 - fb) S2(b0) + fb S2(b1)                   (32-bit lanes, modulo 2^32)
//   and out = (S + 2^23) >> 24 = ((S + 2^23) >> 16) >> 8 (vaddhn, then a narrowing shift).

struct LutPositions {
    uint16x8_t index, f;
};

inline LutPositions lut_positions(uint8x8_t v, uint8x8_t cells, uint16x8_t last) {
    const uint16x8_t q = vmull_u8(v, cells);
    const uint16x8_t y = vaddq_u16(q, vdupq_n_u16(127));
    const uint16x8_t d = vshrq_n_u16(vsraq_n_u16(vaddq_u16(q, vdupq_n_u16(128)), y, 8), 8);
    const uint16x8_t p = vaddq_u16(q, d);
    LutPositions r;
    r.index = vminq_u16(vshrq_n_u16(p, 8), last);
    r.f = vsubq_u16(p, vshlq_n_u16(r.index, 8));
    return r;
}

// Stage 1 for one channel: 256 e0 + f (e1 - e0), modulo 2^16 (exact: it is in 0..65280).
inline uint16x8_t lerp_r(uint8x8_t e0, uint8x8_t e1, uint16x8_t f) {
    return vmlaq_u16(vshll_n_u8(e0, 8), vsubl_u8(e1, e0), f);
}

// Stage 2: w0 a + w1 b as two uint32x4_t (low, high lanes).
inline void lerp_g(uint16x8_t a, uint16x8_t b, uint16x8_t w0, uint16x8_t w1, uint32x4_t out[2]) {
    out[0] = vmlal_u16(vmull_u16(vget_low_u16(a), vget_low_u16(w0)), vget_low_u16(b),
                       vget_low_u16(w1));
    out[1] = vmlal_high_u16(vmull_high_u16(a, w0), b, w1);
}

// Returns how many leading pixels it wrote (a multiple of 8); 2 <= size <= 256.
std::size_t lut3d_blocks(const std::uint8_t* in, std::size_t count, const std::uint8_t* lut,
                         int size, std::uint8_t* out) {
    const uint8x8_t cells = vdup_n_u8(static_cast<std::uint8_t>(size - 1));
    const uint16x8_t last = vdupq_n_u16(static_cast<std::uint16_t>(size - 2));
    const std::uint16_t side = static_cast<std::uint16_t>(size);
    const std::ptrdiff_t row3 = 3 * size, plane3 = 3 * static_cast<std::ptrdiff_t>(size) * size;
    // Word offsets of the pairs (dg, db) = (0, 0), (1, 0), (0, 1), (1, 1) from the cell's base.
    const std::ptrdiff_t delta[4] = {0, row3, plane3, row3 + plane3 - 2};
    // vqtbl4q_u8 indices: [e0 c0 | e0 c1], [e1 c0 | e1 c1], [e0 c2 | e1 c2] of pixels 0..7, for
    // words read at the pair (shift 0) or 2 bytes before it (shift 2).
    uint8x16_t pick[2][3];
    for (int s = 0; s < 2; ++s) {
        alignas(16) std::uint8_t idx[3][16];
        const int shift = 2 * s;
        for (int j = 0; j < 8; ++j) {
            const int at = 8 * j + shift;
            idx[0][j] = static_cast<std::uint8_t>(at);
            idx[0][8 + j] = static_cast<std::uint8_t>(at + 1);
            idx[1][j] = static_cast<std::uint8_t>(at + 3);
            idx[1][8 + j] = static_cast<std::uint8_t>(at + 4);
            idx[2][j] = static_cast<std::uint8_t>(at + 2);
            idx[2][8 + j] = static_cast<std::uint8_t>(at + 5);
        }
        for (int k = 0; k < 3; ++k) pick[s][k] = vld1q_u8(idx[k]);
    }
    const uint16x8_t full = vdupq_n_u16(256);
    const uint32x4_t round = vdupq_n_u32(1u << 23);

    alignas(16) std::uint32_t base[8];
    alignas(16) std::uint8_t staged[64];
    std::size_t i = 0;
    for (; i + 8 <= count; i += 8) {
        const uint8x8x3_t v = vld3_u8(in + 3 * i);
        const LutPositions r = lut_positions(v.val[0], cells, last);
        const LutPositions g = lut_positions(v.val[1], cells, last);
        const LutPositions b = lut_positions(v.val[2], cells, last);
        // base = 3 (ir + size (ig + size ib)); ig + size ib <= 254 + 256 * 254 fits 16 bits.
        const uint16x8_t gb = vmlaq_n_u16(g.index, b.index, side);
        const uint32x4_t cell_lo =
            vmlal_n_u16(vmovl_u16(vget_low_u16(r.index)), vget_low_u16(gb), side);
        const uint32x4_t cell_hi = vmlal_n_u16(vmovl_high_u16(r.index), vget_high_u16(gb), side);
        vst1q_u32(base, vmulq_n_u32(cell_lo, 3));
        vst1q_u32(base + 4, vmulq_n_u32(cell_hi, 3));

        // Stage 1 for the 4 pairs and 3 channels.
        uint16x8_t s1[4][3];
#pragma GCC unroll 4
        for (int k = 0; k < 4; ++k) {
            const std::ptrdiff_t d = delta[k];
            for (int j = 0; j < 8; ++j) std::memcpy(staged + 8 * j, lut + base[j] + d, 8);
            const uint8x16x4_t words = vld1q_u8_x4(staged);
            const uint8x16_t* p = pick[k == 3 ? 1 : 0];
            const uint8x16_t e0 = vqtbl4q_u8(words, p[0]);  // e0 c0 | e0 c1
            const uint8x16_t e1 = vqtbl4q_u8(words, p[1]);  // e1 c0 | e1 c1
            const uint8x16_t e2 = vqtbl4q_u8(words, p[2]);  // e0 c2 | e1 c2
            s1[k][0] = lerp_r(vget_low_u8(e0), vget_low_u8(e1), r.f);
            s1[k][1] = vmlaq_u16(vshll_high_n_u8(e0, 8), vsubl_high_u8(e1, e0), r.f);
            s1[k][2] = lerp_r(vget_low_u8(e2), vget_high_u8(e2), r.f);
        }
        const uint16x8_t wg0 = vsubq_u16(full, g.f);
        const uint16x8_t wb0 = vsubq_u16(full, b.f);
        const uint32x4_t wb0_32[2] = {vmovl_u16(vget_low_u16(wb0)), vmovl_high_u16(wb0)};
        const uint32x4_t fb_32[2] = {vmovl_u16(vget_low_u16(b.f)), vmovl_high_u16(b.f)};
        uint8x8x3_t result;
        for (int c = 0; c < 3; ++c) {
            uint32x4_t s2_0[2], s2_1[2];
            lerp_g(s1[0][c], s1[1][c], wg0, g.f, s2_0);  // db = 0
            lerp_g(s1[2][c], s1[3][c], wg0, g.f, s2_1);  // db = 1
            const uint32x4_t lo = vmlaq_u32(vmulq_u32(s2_0[0], wb0_32[0]), s2_1[0], fb_32[0]);
            const uint32x4_t hi = vmlaq_u32(vmulq_u32(s2_0[1], wb0_32[1]), s2_1[1], fb_32[1]);
            // (S + 2^23) >> 16 fits 16 bits (S + 2^23 < 2^32); >> 8 more gives the byte.
            const uint16x8_t top = vaddhn_high_u32(vaddhn_u32(lo, round), hi, round);
            result.val[c] = vshrn_n_u16(top, 8);
        }
        vst3_u8(out + 3 * i, result);
    }
    return i;
}

}  // namespace

void lut3d_neon(const std::uint8_t* in, std::size_t count, const std::uint8_t* lut, int size,
                std::uint8_t* out) {
    // The 16-bit positions and offsets need size <= 256 (not a limit the engine reaches); other
    // sizes and tails run the reference.
    const std::size_t done =
        (size >= 2 && size <= 256) ? lut3d_blocks(in, count, lut, size, out) : 0;
    if (done < count) lut3d_scalar(in + 3 * done, count - done, lut, size, out + 3 * done);
}

}  // namespace facekit::kernels
