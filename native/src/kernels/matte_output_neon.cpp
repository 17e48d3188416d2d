// NEON (aarch64) path of the portrait matte's output row (matte_output.cpp is the reference;
// simd_neon.h says how every path stays bit-identical to it).
#include "kernels/portrait_kernels.h"
#include "kernels/simd_neon.h"

namespace facekit::kernels {

namespace {

// Guide bytes of 8 elements `Stride` apart. Strides 3 and 4 deinterleave the whole span up to
// the next element's first byte (the caller guarantees one follows).
template <int Stride>
inline uint8x8_t guide8(const std::uint8_t* g) {
    if constexpr (Stride == 1) return vld1_u8(g);
    else if constexpr (Stride == 3) return vld3_u8(g).val[0];
    else return vld4_u8(g).val[0];
}

template <int Stride>
std::size_t blocks(const float* a0, const float* a1, const float* b0, const float* b1, float wy,
                   const std::uint8_t* guide, std::size_t count, std::uint8_t* out) {
    const float32x4_t vy = vdupq_n_f32(wy);
    const float32x4_t zero = vdupq_n_f32(0.0f), top = vdupq_n_f32(255.0f);
    const float32x4_t half = vdupq_n_f32(0.5f);
    const std::size_t reach = Stride == 1 ? 8 : 9;
    std::size_t i = 0;
    for (; i + reach <= count; i += 8) {
        const uint16x8_t g16 = vmovl_u8(guide8<Stride>(guide + i * Stride));
        const float32x4_t g[2] = {vcvtq_f32_u32(vmovl_u16(vget_low_u16(g16))),
                                  vcvtq_f32_u32(vmovl_high_u16(g16))};
        uint32x4_t v[2];
        for (int h = 0; h < 2; ++h) {
            const std::size_t k = i + 4 * static_cast<std::size_t>(h);
            const float32x4_t ta = vld1q_f32(a0 + k), tb = vld1q_f32(b0 + k);
            const float32x4_t a = vaddq_f32(ta, vmulq_f32(vsubq_f32(vld1q_f32(a1 + k), ta), vy));
            const float32x4_t b = vaddq_f32(tb, vmulq_f32(vsubq_f32(vld1q_f32(b1 + k), tb), vy));
            const float32x4_t q = vaddq_f32(vmulq_f32(a, g[h]), b);
            v[h] = vcvtq_u32_f32(vaddq_f32(std_clamp(q, zero, top), half));
        }
        vst1_u8(out + i, vmovn_u16(vcombine_u16(vmovn_u32(v[0]), vmovn_u32(v[1]))));
    }
    return i;
}

}  // namespace

void matte_output_neon(const float* a0, const float* a1, const float* b0, const float* b1,
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
