// NEON (aarch64) path of the product of two 8-bit masks (mask_product.cpp is the reference):
// x = a * b widened to 16 bits (vmull_u8), t = x + 128, (t + (t >> 8)) >> 8 narrowed, which
// equals (x + 127) / 255 for every x in range (the test checks all 65536 pairs).
#include "kernels/simd_neon.h"

namespace facekit::kernels {

namespace {

inline uint8x8_t product8(uint8x8_t a, uint8x8_t b) {
    const uint16x8_t t = vaddq_u16(vmull_u8(a, b), vdupq_n_u16(128));
    return vshrn_n_u16(vaddq_u16(t, vshrq_n_u16(t, 8)), 8);
}

}  // namespace

void mask_product_neon(const std::uint8_t* a, const std::uint8_t* b, std::size_t count,
                       std::uint8_t* out) {
    std::size_t i = 0;
    for (; i + 16 <= count; i += 16) {
        const uint8x16_t va = vld1q_u8(a + i), vb = vld1q_u8(b + i);
        vst1q_u8(out + i, vcombine_u8(product8(vget_low_u8(va), vget_low_u8(vb)),
                                      product8(vget_high_u8(va), vget_high_u8(vb))));
    }
    if (i < count) mask_product_scalar(a + i, b + i, count - i, out + i);
}

}  // namespace facekit::kernels
