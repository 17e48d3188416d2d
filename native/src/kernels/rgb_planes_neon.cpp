// NEON (aarch64) paths of the multi-band blend's split and join (rgb_difference.cpp is the
// reference): eight pixels at a time through vld3/vst3; the float operations are the
// reference's, in its order (vmaxq/vminq: a NaN sum is first made 0 by the compare and select
// that the reference's std::max(0.0f, v) is).
#include "kernels/fusion_kernels.h"
#include "kernels/simd_neon.h"

namespace facekit::kernels {

namespace {

inline float32x4_t low_floats(uint16x8_t v) { return vcvtq_f32_u32(vmovl_u16(vget_low_u16(v))); }
inline float32x4_t high_floats(uint16x8_t v) { return vcvtq_f32_u32(vmovl_u16(vget_high_u16(v))); }

}  // namespace

void rgb_difference_neon(const std::uint8_t* top, const std::uint8_t* base, std::size_t count,
                         float* r, float* g, float* b) {
    float* planes[3] = {r, g, b};
    std::size_t i = 0;
    for (; i + 8 <= count; i += 8) {
        const uint8x8x3_t t = vld3_u8(top + 3 * i), s = vld3_u8(base + 3 * i);
        for (int c = 0; c < 3; ++c) {
            const uint16x8_t tw = vmovl_u8(t.val[c]), sw = vmovl_u8(s.val[c]);
            vst1q_f32(planes[c] + i, vsubq_f32(low_floats(tw), low_floats(sw)));
            vst1q_f32(planes[c] + i + 4, vsubq_f32(high_floats(tw), high_floats(sw)));
        }
    }
    if (i < count) rgb_difference_scalar(top + 3 * i, base + 3 * i, count - i, r + i, g + i, b + i);
}

void rgb_add_round_neon(const std::uint8_t* base, const float* r, const float* g, const float* b,
                        std::size_t count, std::uint8_t* out) {
    const float* planes[3] = {r, g, b};
    const float32x4_t zero = vdupq_n_f32(0.0f), top = vdupq_n_f32(255.0f), half = vdupq_n_f32(0.5f);
    auto round = [&](float32x4_t v) {
        // (0 < v) ? v : 0, then (255 < x) ? 255 : x, as the reference's std::max and std::min.
        const float32x4_t lower = vbslq_f32(vcltq_f32(zero, v), v, zero);
        const float32x4_t clamped = vbslq_f32(vcltq_f32(top, lower), top, lower);
        return vcvtq_u32_f32(vaddq_f32(clamped, half));
    };
    std::size_t i = 0;
    for (; i + 8 <= count; i += 8) {
        const uint8x8x3_t s = vld3_u8(base + 3 * i);
        uint8x8x3_t o;
        for (int c = 0; c < 3; ++c) {
            const uint16x8_t sw = vmovl_u8(s.val[c]);
            const uint32x4_t lo = round(vaddq_f32(low_floats(sw), vld1q_f32(planes[c] + i)));
            const uint32x4_t hi = round(vaddq_f32(high_floats(sw), vld1q_f32(planes[c] + i + 4)));
            o.val[c] = vmovn_u16(vcombine_u16(vmovn_u32(lo), vmovn_u32(hi)));
        }
        vst3_u8(out + 3 * i, o);
    }
    if (i < count) rgb_add_round_scalar(base + 3 * i, r + i, g + i, b + i, count - i, out + 3 * i);
}

}  // namespace facekit::kernels
