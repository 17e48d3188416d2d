// NEON (aarch64) paths of the yuv420p <-> RGB rows (yuv420.cpp is the reference): vld3/vst3 for
// the RGB bytes, the reference's integer sums in int32 lanes; the saturating narrows are its
// clamp to 0..255. Row tails go to the scalar spans.
#include "kernels/simd_neon.h"
#include "kernels/video_kernels.h"

namespace facekit::kernels {

namespace {

inline int32x4_t low32(uint16x8_t v) { return vreinterpretq_s32_u32(vmovl_u16(vget_low_u16(v))); }
inline int32x4_t high32(uint16x8_t v) { return vreinterpretq_s32_u32(vmovl_u16(vget_high_u16(v))); }

// Eight int32 results (two vectors) shifted right by `shift`, saturated to bytes.
template <int shift>
inline uint8x8_t to_bytes(int32x4_t lo, int32x4_t hi) {
    return vqmovn_u16(vcombine_u16(vqmovun_s32(vshrq_n_s32(lo, shift)),
                                   vqmovun_s32(vshrq_n_s32(hi, shift))));
}

}  // namespace

void yuv_to_rgb_row_neon(const std::uint8_t* y, const std::uint8_t* u0, const std::uint8_t* u1,
                         const std::uint8_t* v0, const std::uint8_t* v1, int width,
                         const YuvCoefficients& k, std::uint8_t* rgb) {
    const int samples = (width + 1) / 2;
    const int32x4_t bias = vdupq_n_s32(1 << 19), centre = vdupq_n_s32(2048);
    const std::uint16_t near_w = k.centred ? 3 : 2, far_w = k.centred ? 1 : 2;
    // 16 * chroma of pixels x..x+15 (samples i - 1..i + 8) as two uint16x8 in pixel order.
    auto upsampled = [&](const std::uint8_t* c0, const std::uint8_t* c1, int i) {
        auto cv = [&](int at) {  // 3 * nearest row + other row, samples at..at+7
            return vmlal_u8(vmovl_u8(vld1_u8(c1 + at)), vld1_u8(c0 + at), vdup_n_u8(3));
        };
        const uint16x8_t before = cv(i - 1), here = cv(i), after = cv(i + 1);
        const uint16x8_t centre_part = vmulq_n_u16(here, near_w);
        const uint16x8_t even = vmlaq_n_u16(centre_part, k.centred ? before : here, far_w);
        const uint16x8_t odd = vmlaq_n_u16(centre_part, after, far_w);
        return vzipq_u16(even, odd);
    };
    // The first two pixels (i = 0) go to the scalar span; sixteen pixels read samples
    // i - 1..i + 8, so i + 9 <= samples.
    const int head = width < 2 ? width : 2;
    yuv_to_rgb_span_scalar(y, u0, u1, v0, v1, width, 0, head, k, rgb);
    int x = head;
    for (; x + 16 <= width && x / 2 + 9 <= samples; x += 16) {
        const uint16x8x2_t u16 = upsampled(u0, u1, x / 2), v16 = upsampled(v0, v1, x / 2);
        const uint8x16_t luma_bytes = vld1q_u8(y + x);
        for (int h = 0; h < 2; ++h) {
            const uint16x8_t yw = vmovl_u8(h == 0 ? vget_low_u8(luma_bytes) : vget_high_u8(luma_bytes));
            int32x4_t r[2], g[2], b[2];
            for (int q = 0; q < 2; ++q) {
                const int32x4_t yy = q == 0 ? low32(yw) : high32(yw);
                const int32x4_t uu = vsubq_s32(q == 0 ? low32(u16.val[h]) : high32(u16.val[h]), centre);
                const int32x4_t vv = vsubq_s32(q == 0 ? low32(v16.val[h]) : high32(v16.val[h]), centre);
                const int32x4_t luma =
                    vaddq_s32(vmulq_n_s32(vsubq_s32(yy, vdupq_n_s32(k.y_offset)), k.y_gain), bias);
                r[q] = vaddq_s32(luma, vmulq_n_s32(vv, k.r_v));
                g[q] = vaddq_s32(vaddq_s32(luma, vmulq_n_s32(uu, k.g_u)), vmulq_n_s32(vv, k.g_v));
                b[q] = vaddq_s32(luma, vmulq_n_s32(uu, k.b_u));
            }
            uint8x8x3_t out;
            out.val[0] = to_bytes<20>(r[0], r[1]);
            out.val[1] = to_bytes<20>(g[0], g[1]);
            out.val[2] = to_bytes<20>(b[0], b[1]);
            vst3_u8(rgb + 3 * (x + 8 * h), out);
        }
    }
    if (x < width) yuv_to_rgb_span_scalar(y, u0, u1, v0, v1, width, x, width, k, rgb);
}

void rgb_to_y_row_neon(const std::uint8_t* rgb, int width, const YuvCoefficients& k,
                       std::uint8_t* y) {
    const int32x4_t bias = vdupq_n_s32(k.y_bias);
    int x = 0;
    for (; x + 8 <= width; x += 8) {
        const uint8x8x3_t p = vld3_u8(rgb + 3 * x);
        const uint16x8_t r = vmovl_u8(p.val[0]), g = vmovl_u8(p.val[1]), b = vmovl_u8(p.val[2]);
        auto sum = [&](int32x4_t rr, int32x4_t gg, int32x4_t bb) {
            return vaddq_s32(vaddq_s32(vaddq_s32(vmulq_n_s32(rr, k.y_r), vmulq_n_s32(gg, k.y_g)),
                                       vmulq_n_s32(bb, k.y_b)),
                             bias);
        };
        vst1_u8(y + x, to_bytes<16>(sum(low32(r), low32(g), low32(b)),
                                    sum(high32(r), high32(g), high32(b))));
    }
    if (x < width) rgb_to_y_span_scalar(rgb, width, x, k, y);
}

void rgb_to_uv_row_neon(const std::uint8_t* r0, const std::uint8_t* r1, const std::uint8_t* r2,
                        const std::uint8_t* r3, int width, const YuvCoefficients& k,
                        std::uint8_t* u, std::uint8_t* v) {
    const int32x4_t bias = vdupq_n_s32(k.c_bias);
    int i = 0;
    for (; 2 * i + 16 <= width; i += 8) {
        const uint8x16x3_t a = vld3q_u8(r0 + 6 * i), b = vld3q_u8(r1 + 6 * i),
                           c = vld3q_u8(r2 + 6 * i), d = vld3q_u8(r3 + 6 * i);
        uint16x8_t s[3];
        for (int ch = 0; ch < 3; ++ch) {
            // Pixel pairs summed (vpaddl), then the rows weighted 1, 3, 3, 1 (at most 4080).
            const uint16x8_t middle = vaddq_u16(vpaddlq_u8(b.val[ch]), vpaddlq_u8(c.val[ch]));
            s[ch] = vmlaq_n_u16(vaddq_u16(vpaddlq_u8(a.val[ch]), vpaddlq_u8(d.val[ch])), middle, 3);
        }
        auto sum = [&](int q, std::int32_t cr, std::int32_t cg, std::int32_t cb) {
            auto part = [&](int ch) { return q == 0 ? low32(s[ch]) : high32(s[ch]); };
            return vaddq_s32(vaddq_s32(vaddq_s32(vmulq_n_s32(part(0), cr), vmulq_n_s32(part(1), cg)),
                                       vmulq_n_s32(part(2), cb)),
                             bias);
        };
        vst1_u8(u + i, to_bytes<20>(sum(0, k.u_r, k.u_g, k.u_b), sum(1, k.u_r, k.u_g, k.u_b)));
        vst1_u8(v + i, to_bytes<20>(sum(0, k.v_r, k.v_g, k.v_b), sum(1, k.v_r, k.v_g, k.v_b)));
    }
    if (2 * i < width) rgb_to_uv_span_scalar(r0, r1, r2, r3, width, i, k, u, v);
}

}  // namespace facekit::kernels
