// NEON (aarch64) path of blending a target into an image through a mask (blend.cpp is the
// reference; simd_neon.h says how every path stays bit-identical to it).
#include "kernels/simd_neon.h"

namespace facekit::kernels {

namespace {

// out = a + (((t - a) * w + 128) >> 8) = ((a << 8) + t * w - a * w + 128) >> 8: 256a is a
// multiple of 256, so adding it inside the floor shift changes nothing. The inner value is
// a * (256 - w) + t * w, in [0, 65280] for w <= 255, so 16-bit lanes accumulating it modulo 2^16
// hold it exactly; vrshrn adds the 128 and shifts (in wider precision) and narrows.

template <int Channels>
std::size_t blend_blocks(const std::uint8_t* in, const std::uint8_t* target,
                         const std::uint8_t* mask, int weight_q8, std::size_t count,
                         std::uint8_t* out) {
    const std::uint16_t weight = static_cast<std::uint16_t>(weight_q8);
    std::size_t i = 0;
    for (; i + 16 <= count; i += 16) {
        // w = (mask * weight + 128) >> 8: mask * weight <= 65280 fits 16 bits.
        const uint8x16_t m = vld1q_u8(mask + i);
        const uint8x16_t w =
            vcombine_u8(vrshrn_n_u16(vmulq_n_u16(vmovl_u8(vget_low_u8(m)), weight), 8),
                        vrshrn_n_u16(vmulq_n_u16(vmovl_high_u8(m), weight), 8));
        const std::size_t at = i * Channels;
        const auto a = Pixels<Channels>::load16(in + at);
        const auto t = Pixels<Channels>::load16(target + at);
        typename Pixels<Channels>::Q v;
        for (int c = 0; c < Channels; ++c) {
            uint16x8_t lo = vshll_n_u8(vget_low_u8(a.val[c]), 8);
            lo = vmlal_u8(lo, vget_low_u8(t.val[c]), vget_low_u8(w));
            lo = vmlsl_u8(lo, vget_low_u8(a.val[c]), vget_low_u8(w));
            uint16x8_t hi = vshll_high_n_u8(a.val[c], 8);
            hi = vmlal_high_u8(hi, t.val[c], w);
            hi = vmlsl_high_u8(hi, a.val[c], w);
            v.val[c] = vrshrn_high_n_u16(vrshrn_n_u16(lo, 8), hi, 8);
        }
        Pixels<Channels>::store16(out + at, v);
    }
    return i;
}

}  // namespace

void blend_neon(const std::uint8_t* in, const std::uint8_t* target, const std::uint8_t* mask,
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
