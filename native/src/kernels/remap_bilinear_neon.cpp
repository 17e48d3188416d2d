// NEON (aarch64) path of bilinear sampling at arbitrary positions (the shape warp)
// (remap_bilinear.cpp is the reference; simd_neon.h says how every path stays bit-identical to it).
#include "kernels/simd_neon.h"

namespace facekit::kernels {

namespace {

// 8 positions per block. Coordinates, fractions and weights are computed as the reference does,
// in float lanes; the four neighbours of each position are loaded pixel by pixel into channel
// planes (vld3_lane and kin: exactly the reference's bytes, no over-read). The interpolation is
// exact integer maths:
//   top = p00 * (2048 - fx) + p01 * fx, bottom likewise (16x16->32-bit multiplies, < 2^19),
//   value = (top * (2048 - fy) + bottom * fy + 2^21) >> 22 (32-bit products, < 2^30).

struct RemapSetup {
    float32x4_t zero, max_x, max_y, scale, half;
    int32x4_t one, last_x, last_y;
};

struct Coords {
    int32x4_t x0, x1, y0, y1, fx, fy;
};

inline Coords coords4(const RemapSetup& k, float32x4x2_t xy) {
    const float32x4_t x = std_clamp(xy.val[0], k.zero, k.max_x);
    const float32x4_t y = std_clamp(xy.val[1], k.zero, k.max_y);
    Coords c;
    c.x0 = vcvtq_s32_f32(x);
    c.y0 = vcvtq_s32_f32(y);
    c.fx = vcvtq_s32_f32(vaddq_f32(vmulq_f32(vsubq_f32(x, vcvtq_f32_s32(c.x0)), k.scale), k.half));
    c.fy = vcvtq_s32_f32(vaddq_f32(vmulq_f32(vsubq_f32(y, vcvtq_f32_s32(c.y0)), k.scale), k.half));
    c.x1 = vminq_s32(vaddq_s32(c.x0, k.one), k.last_x);
    c.y1 = vminq_s32(vaddq_s32(c.y0, k.one), k.last_y);
    return c;
}

template <int Channels>
struct Neighbours {
    typename Pixels<Channels>::D p00, p01, p10, p11;
};

template <int Channels, std::size_t... L>
inline void load_neighbours(const std::uint8_t* image, std::ptrdiff_t stride,
                            const std::int32_t* x0, const std::int32_t* x1, const std::int32_t* y0,
                            const std::int32_t* y1, Neighbours<Channels>& n,
                            std::index_sequence<L...>) {
    auto one = [&](auto lane) {
        constexpr int j = decltype(lane)::value;
        const std::uint8_t* r0 = image + static_cast<std::ptrdiff_t>(y0[j]) * stride;
        const std::uint8_t* r1 = image + static_cast<std::ptrdiff_t>(y1[j]) * stride;
        const std::ptrdiff_t c0 = static_cast<std::ptrdiff_t>(x0[j]) * Channels;
        const std::ptrdiff_t c1 = static_cast<std::ptrdiff_t>(x1[j]) * Channels;
        n.p00 = Pixels<Channels>::template load_lane<j>(r0 + c0, n.p00);
        n.p01 = Pixels<Channels>::template load_lane<j>(r0 + c1, n.p01);
        n.p10 = Pixels<Channels>::template load_lane<j>(r1 + c0, n.p10);
        n.p11 = Pixels<Channels>::template load_lane<j>(r1 + c1, n.p11);
    };
    (one(std::integral_constant<int, static_cast<int>(L)>{}), ...);
}

// top/bottom = a * w0 + b * w1 for 8 lanes, as two u32x4 halves.
inline void lerp_x(uint8x8_t a8, uint8x8_t b8, uint16x8_t w0, uint16x8_t w1, uint32x4_t out[2]) {
    const uint16x8_t a = vmovl_u8(a8), b = vmovl_u8(b8);
    out[0] = vmlal_u16(vmull_u16(vget_low_u16(a), vget_low_u16(w0)), vget_low_u16(b),
                       vget_low_u16(w1));
    out[1] = vmlal_high_u16(vmull_high_u16(a, w0), b, w1);
}

template <int Channels>
std::size_t remap_blocks(const std::uint8_t* image, int width, int height, std::ptrdiff_t stride,
                         const float* positions, std::size_t count, std::uint8_t* out) {
    RemapSetup k;
    k.zero = vdupq_n_f32(0.0f);
    k.max_x = vdupq_n_f32(static_cast<float>(width - 1));
    k.max_y = vdupq_n_f32(static_cast<float>(height - 1));
    k.scale = vdupq_n_f32(2048.0f);
    k.half = vdupq_n_f32(0.5f);
    k.one = vdupq_n_s32(1);
    k.last_x = vdupq_n_s32(width - 1);
    k.last_y = vdupq_n_s32(height - 1);
    const uint16x8_t full16 = vdupq_n_u16(2048);
    const uint32x4_t full32 = vdupq_n_u32(2048), round = vdupq_n_u32(1u << 21);
    alignas(16) std::int32_t x0[8], x1[8], y0[8], y1[8];
    std::size_t i = 0;
    for (; i + 8 <= count; i += 8) {
        const float* p = positions + 2 * i;
        const Coords lo = coords4(k, vld2q_f32(p)), hi = coords4(k, vld2q_f32(p + 8));
        vst1q_s32(x0, lo.x0);
        vst1q_s32(x0 + 4, hi.x0);
        vst1q_s32(x1, lo.x1);
        vst1q_s32(x1 + 4, hi.x1);
        vst1q_s32(y0, lo.y0);
        vst1q_s32(y0 + 4, hi.y0);
        vst1q_s32(y1, lo.y1);
        vst1q_s32(y1 + 4, hi.y1);
        Neighbours<Channels> n;
        std::memset(&n, 0, sizeof n);
        load_neighbours<Channels>(image, stride, x0, x1, y0, y1, n, std::make_index_sequence<8>{});
        const uint16x8_t wx1 = vcombine_u16(vmovn_u32(vreinterpretq_u32_s32(lo.fx)),
                                            vmovn_u32(vreinterpretq_u32_s32(hi.fx)));
        const uint16x8_t wx0 = vsubq_u16(full16, wx1);
        const uint32x4_t wy1[2] = {vreinterpretq_u32_s32(lo.fy), vreinterpretq_u32_s32(hi.fy)};
        const uint32x4_t wy0[2] = {vsubq_u32(full32, wy1[0]), vsubq_u32(full32, wy1[1])};
        typename Pixels<Channels>::D v;
        for (int c = 0; c < Channels; ++c) {
            uint32x4_t top[2], bottom[2];
            lerp_x(n.p00.val[c], n.p01.val[c], wx0, wx1, top);
            lerp_x(n.p10.val[c], n.p11.val[c], wx0, wx1, bottom);
            uint16x4_t narrow[2];
            for (int h = 0; h < 2; ++h) {
                const uint32x4_t s = vmlaq_u32(vmulq_u32(top[h], wy0[h]), bottom[h], wy1[h]);
                narrow[h] = vshrn_n_u32(vaddq_u32(s, round), 16);  // (s + 2^21) >> 16, < 2^15
            }
            v.val[c] = vshrn_n_u16(vcombine_u16(narrow[0], narrow[1]), 6);  // >> 22 in all
        }
        Pixels<Channels>::store8(out + i * Channels, v);
    }
    return i;
}

}  // namespace

void remap_bilinear_neon(const std::uint8_t* image, int width, int height, std::ptrdiff_t stride,
                         int channels, const float* positions, std::size_t count,
                         std::uint8_t* out) {
    std::size_t done = 0;
    done = with_channels(
        channels,
        [&](auto c) {
            return remap_blocks<decltype(c)::value>(image, width, height, stride, positions,
                                                    count, out);
        },
        [] { return std::size_t{0}; });
    if (done < count)
        remap_bilinear_scalar(image, width, height, stride, channels, positions + 2 * done,
                              count - done, out + done * static_cast<std::size_t>(channels));
}

}  // namespace facekit::kernels
