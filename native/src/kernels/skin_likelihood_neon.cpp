// NEON (aarch64) path of the skin likelihood (skin_likelihood.cpp is the reference): the same
// float operations in the same order, eight pixels at a time (vld3 deinterleaves them; IEEE
// division, floor (vrndm), min and max give the same bits as the scalar code; no fused ops).
#include "kernels/simd_neon.h"

namespace facekit::kernels {

namespace {

// Four pixels: r, g, b as 32-bit integers and face as float; writes four results each.
inline void four(uint32x4_t ri, uint32x4_t gi, uint32x4_t bi, float32x4_t f, const SkinColour& m,
                 std::int32_t* out_colour, std::int32_t* out_like) {
    const float32x4_t zero = vdupq_n_f32(0.0f), one = vdupq_n_f32(1.0f), half = vdupq_n_f32(0.5f),
                      full = vdupq_n_f32(255.0f);
    const uint32x4_t si = vaddq_u32(vaddq_u32(ri, gi), bi);
    const uint32x4_t nonzero = vmvnq_u32(vceqq_u32(si, vdupq_n_u32(0)));
    const float32x4_t inv = vdivq_f32(full, vcvtq_f32_u32(si));
    const float32x4_t cr = vreinterpretq_f32_u32(vandq_u32(nonzero, vreinterpretq_u32_f32(
        vrndmq_f32(vaddq_f32(vmulq_f32(vcvtq_f32_u32(ri), inv), half)))));
    const float32x4_t cg = vreinterpretq_f32_u32(vandq_u32(nonzero, vreinterpretq_u32_f32(
        vrndmq_f32(vaddq_f32(vmulq_f32(vcvtq_f32_u32(gi), inv), half)))));
    const float32x4_t d = vaddq_f32(vmulq_f32(vabsq_f32(vsubq_f32(cr, vdupq_n_f32(m.r))), vdupq_n_f32(m.scale_r)),
                                    vmulq_f32(vabsq_f32(vsubq_f32(cg, vdupq_n_f32(m.g))), vdupq_n_f32(m.scale_g)));
    const float32x4_t tight = vminq_f32(vmaxq_f32(
        vmulq_f32(vsubq_f32(vdupq_n_f32(m.zero_in), d), vdupq_n_f32(m.ramp_in)), zero), one);
    const float32x4_t loose = vminq_f32(vmaxq_f32(
        vmulq_f32(vsubq_f32(vdupq_n_f32(m.zero_out), d), vdupq_n_f32(m.ramp_out)), zero), one);
    const float32x4_t like = vaddq_f32(vmulq_f32(tight, f), vmulq_f32(loose, vsubq_f32(full, f)));
    const uint32x4_t yi = vshrq_n_u32(vaddq_u32(vaddq_u32(vmulq_n_u32(ri, 77), vmulq_n_u32(gi, 150)),
                                                vaddq_u32(vmulq_n_u32(bi, 29), vdupq_n_u32(128))), 8);
    const float32x4_t dark = vminq_f32(vmaxq_f32(vmulq_f32(
        vsubq_f32(vcvtq_f32_u32(yi), vdupq_n_f32(m.dark_lo)), vdupq_n_f32(m.dark_ramp)), zero), one);
    vst1q_s32(out_colour, vcvtq_s32_f32(vrndmq_f32(vaddq_f32(like, half))));
    vst1q_s32(out_like, vcvtq_s32_f32(vrndmq_f32(vaddq_f32(vmulq_f32(like, dark), half))));
}

}  // namespace

void skin_likelihood_neon(const std::uint8_t* rgb, const std::uint8_t* face, std::size_t count,
                          const SkinColour& m, std::uint8_t* likelihood, std::uint8_t* colour) {
    std::size_t i = 0;
    for (; i + 8 <= count; i += 8) {
        const uint8x8x3_t px = vld3_u8(rgb + 3 * i);
        const uint16x8_t r = vmovl_u8(px.val[0]), g = vmovl_u8(px.val[1]), b = vmovl_u8(px.val[2]);
        const uint16x8_t f = vmovl_u8(vld1_u8(face + i));
        std::int32_t out_colour[8], out_like[8];
        four(vmovl_u16(vget_low_u16(r)), vmovl_u16(vget_low_u16(g)), vmovl_u16(vget_low_u16(b)),
             vcvtq_f32_u32(vmovl_u16(vget_low_u16(f))), m, out_colour, out_like);
        four(vmovl_u16(vget_high_u16(r)), vmovl_u16(vget_high_u16(g)), vmovl_u16(vget_high_u16(b)),
             vcvtq_f32_u32(vmovl_u16(vget_high_u16(f))), m, out_colour + 4, out_like + 4);
        for (int k = 0; k < 8; ++k) {
            colour[i + k] = static_cast<std::uint8_t>(out_colour[k]);
            likelihood[i + k] = static_cast<std::uint8_t>(out_like[k]);
        }
    }
    if (i < count) skin_likelihood_scalar(rgb + 3 * i, face + i, count - i, m, likelihood + i, colour + i);
}

}  // namespace facekit::kernels
