// NEON (aarch64) paths of the beauty engine's pixel kernels (beauty_kernels.cpp is the reference).
// Every output equals the scalar reference's: integer maths is exact (where the reference's order
// is changed, the result is the same integer, as the comments show), float maths repeats the
// reference's operations in its order with vmulq + vaddq, never vmlaq/vfmaq on floats (and the
// file is built with -ffp-contract=off), and conversions round or truncate as the scalar casts do
// (vcvtq_f32_u32 rounds to nearest even like ucvtf; vcvtq_u32_f32 / vcvtq_s32_f32 truncate like
// fcvtzu / fcvtzs). Tails shorter than a vector go to the scalar functions, which are
// element-wise (box_sum excepted: it runs entirely here).
#include <arm_neon.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <type_traits>
#include <utility>

#include "kernels/beauty_kernels.h"
#include "kernels/kernels.h"

namespace facekit::kernels {
namespace {

inline int min_int(int a, int b) { return a < b ? a : b; }
inline int max_int(int a, int b) { return a < b ? b : a; }

// std::max(v, lo) = (v < lo) ? lo : v and
// std::clamp(v, lo, hi) = (v < lo) ? lo : (hi < v) ? hi : v, as compares and selects
// (vmaxq_f32 would differ on NaN and on -0).
inline float32x4_t std_max(float32x4_t v, float32x4_t lo) {
    return vbslq_f32(vcltq_f32(v, lo), lo, v);
}
inline float32x4_t std_clamp(float32x4_t v, float32x4_t lo, float32x4_t hi) {
    const float32x4_t t = vbslq_f32(vcltq_f32(v, lo), lo, v);
    return vbslq_f32(vcltq_f32(hi, t), hi, t);
}

// ---- box_sum --------------------------------------------------------------------------------

// Inclusive prefix sum of the 4 lanes (modulo 2^32, like every sum here).
inline uint32x4_t prefix_sum4(uint32x4_t d) {
    const uint32x4_t zero = vdupq_n_u32(0);
    d = vaddq_u32(d, vextq_u32(zero, d, 3));
    return vaddq_u32(d, vextq_u32(zero, d, 2));
}

// out[x] = sum of padded[x .. x + 2r] for x < w: out[0] directly, then the running difference
// out[x] = out[x - 1] + padded[x + 2r] - padded[x - 1], 8 at a time as prefix sums of the
// differences plus the carried out[x - 1].
void box_row(const std::uint32_t* padded, std::size_t w, int r, std::uint32_t* out) {
    const std::size_t span = 2 * static_cast<std::size_t>(r);
    std::uint32_t s = 0;
    for (std::size_t i = 0; i <= span; ++i) s += padded[i];
    out[0] = s;
    std::size_t x = 1;
    if (x + 8 <= w) {
        uint32x4_t carry = vdupq_n_u32(s);
        for (; x + 8 <= w; x += 8) {
            const uint32x4_t d0 = prefix_sum4(
                vsubq_u32(vld1q_u32(padded + x + span), vld1q_u32(padded + x - 1)));
            const uint32x4_t d1 = prefix_sum4(
                vsubq_u32(vld1q_u32(padded + x + 4 + span), vld1q_u32(padded + x + 3)));
            vst1q_u32(out + x, vaddq_u32(d0, carry));
            carry = vaddq_u32(carry, vdupq_laneq_u32(d0, 3));
            vst1q_u32(out + x + 4, vaddq_u32(d1, carry));
            carry = vaddq_u32(carry, vdupq_laneq_u32(d1, 3));
        }
        s = vgetq_lane_u32(carry, 0);
    }
    for (; x < w; ++x) {
        s += padded[x + span] - padded[x - 1];
        out[x] = s;
    }
}

// column[x] += entering[x] - leaving[x] (leaving may be null: a plain add).
void update_column(std::uint32_t* column, const std::uint32_t* entering,
                   const std::uint32_t* leaving, std::size_t w) {
    std::size_t x = 0;
    if (leaving != nullptr) {
        for (; x + 4 <= w; x += 4)
            vst1q_u32(column + x,
                      vsubq_u32(vaddq_u32(vld1q_u32(column + x), vld1q_u32(entering + x)),
                                vld1q_u32(leaving + x)));
        for (; x < w; ++x) column[x] = column[x] + entering[x] - leaving[x];
    } else {
        for (; x + 4 <= w; x += 4)
            vst1q_u32(column + x, vaddq_u32(vld1q_u32(column + x), vld1q_u32(entering + x)));
        for (; x < w; ++x) column[x] += entering[x];
    }
}

// ---- guided ---------------------------------------------------------------------------------

struct Coefficients {
    float32x4_t inv, eps, zero, half, a_scale, b_scale;
};

inline void coefficients4(const Coefficients& k, const std::uint32_t* sum_i,
                          const std::uint32_t* sum_ii, std::uint32_t* a_q, std::uint32_t* b_q) {
    const float32x4_t mean = vmulq_f32(vcvtq_f32_u32(vld1q_u32(sum_i)), k.inv);
    const float32x4_t corr = vmulq_f32(vcvtq_f32_u32(vld1q_u32(sum_ii)), k.inv);
    const float32x4_t var = std_max(vsubq_f32(corr, vmulq_f32(mean, mean)), k.zero);
    const float32x4_t a = vdivq_f32(var, vaddq_f32(var, k.eps));
    const float32x4_t b = vsubq_f32(mean, vmulq_f32(a, mean));
    vst1q_u32(a_q, vcvtq_u32_f32(vaddq_f32(vmulq_f32(a, k.a_scale), k.half)));
    vst1q_u32(b_q, vcvtq_u32_f32(vaddq_f32(vmulq_f32(std_max(b, k.zero), k.b_scale), k.half)));
}

// Guide bytes of 8 elements `stride` apart. Stride 3 and 4 deinterleave the whole span up to the
// next element (the caller guarantees one follows); others load lane by lane.
template <int Stride>
inline uint8x8_t load_guide8(const std::uint8_t* g, int stride) {
    if constexpr (Stride == 1) {
        return vld1_u8(g);
    } else if constexpr (Stride == 3) {
        return vld3_u8(g).val[0];
    } else if constexpr (Stride == 4) {
        return vld4_u8(g).val[0];
    } else {
        uint8x8_t v = vdup_n_u8(0);
        v = vld1_lane_u8(g, v, 0);
        v = vld1_lane_u8(g + stride, v, 1);
        v = vld1_lane_u8(g + 2 * static_cast<std::ptrdiff_t>(stride), v, 2);
        v = vld1_lane_u8(g + 3 * static_cast<std::ptrdiff_t>(stride), v, 3);
        v = vld1_lane_u8(g + 4 * static_cast<std::ptrdiff_t>(stride), v, 4);
        v = vld1_lane_u8(g + 5 * static_cast<std::ptrdiff_t>(stride), v, 5);
        v = vld1_lane_u8(g + 6 * static_cast<std::ptrdiff_t>(stride), v, 6);
        v = vld1_lane_u8(g + 7 * static_cast<std::ptrdiff_t>(stride), v, 7);
        return v;
    }
}

template <std::size_t... L>
inline void store_strided8(uint8x8_t v, std::uint8_t* o, std::ptrdiff_t stride,
                           std::index_sequence<L...>) {
    (vst1_lane_u8(o + static_cast<std::ptrdiff_t>(L) * stride, v, L), ...);
}

inline uint8x8_t output8(const float32x4_t q[2], float32x4_t zero, float32x4_t top,
                         float32x4_t half) {
    const uint32x4_t lo = vcvtq_u32_f32(vaddq_f32(std_clamp(q[0], zero, top), half));
    const uint32x4_t hi = vcvtq_u32_f32(vaddq_f32(std_clamp(q[1], zero, top), half));
    return vmovn_u16(vcombine_u16(vmovn_u32(lo), vmovn_u32(hi)));  // values 0..255
}

// Returns how many leading elements it wrote (a multiple of 8); the caller does the rest.
template <int Stride, bool ContiguousOut>
std::size_t guided_output_blocks(const std::uint32_t* sum_a, const std::uint32_t* sum_b,
                                 const std::uint8_t* guide, int pixel_stride, std::size_t count,
                                 float inv_n, std::uint8_t* out, int out_stride) {
    const float scale_a = inv_n * (1.0f / 4096.0f);
    const float scale_b = inv_n * (1.0f / 16.0f);
    const float32x4_t va = vdupq_n_f32(scale_a), vb = vdupq_n_f32(scale_b);
    const float32x4_t zero = vdupq_n_f32(0.0f), top = vdupq_n_f32(255.0f);
    const float32x4_t half = vdupq_n_f32(0.5f);
    // Deinterleaving guide loads read up to the next element's first byte: one must follow.
    const std::size_t reach = (Stride == 3 || Stride == 4) ? 9 : 8;
    std::size_t i = 0;
    for (; i + reach <= count; i += 8) {
        const std::uint8_t* g8 = guide + i * static_cast<std::size_t>(pixel_stride);
        const uint16x8_t g16 = vmovl_u8(load_guide8<Stride>(g8, pixel_stride));
        const float32x4_t g[2] = {vcvtq_f32_u32(vmovl_u16(vget_low_u16(g16))),
                                  vcvtq_f32_u32(vmovl_high_u16(g16))};
        float32x4_t q[2];
        for (int h = 0; h < 2; ++h) {
            const float32x4_t a = vmulq_f32(vcvtq_f32_u32(vld1q_u32(sum_a + i + 4 * h)), va);
            const float32x4_t b = vmulq_f32(vcvtq_f32_u32(vld1q_u32(sum_b + i + 4 * h)), vb);
            q[h] = vaddq_f32(vmulq_f32(a, g[h]), b);
        }
        const uint8x8_t v = output8(q, zero, top, half);
        if constexpr (ContiguousOut)
            vst1_u8(out + i, v);
        else
            store_strided8(v, out + i * static_cast<std::size_t>(out_stride), out_stride,
                           std::make_index_sequence<8>{});
    }
    return i;
}

template <int Stride>
std::size_t guided_output_blocks_for(const std::uint32_t* sum_a, const std::uint32_t* sum_b,
                                     const std::uint8_t* guide, int pixel_stride,
                                     std::size_t count, float inv_n, std::uint8_t* out,
                                     int out_stride) {
    if (out_stride == 1)
        return guided_output_blocks<Stride, true>(sum_a, sum_b, guide, pixel_stride, count, inv_n,
                                                  out, out_stride);
    return guided_output_blocks<Stride, false>(sum_a, sum_b, guide, pixel_stride, count, inv_n,
                                               out, out_stride);
}

// ---- per-channel-count loads and stores of 8 or 16 interleaved pixels ----------------------

template <int Channels>
struct Pixels;
template <>
struct Pixels<1> {  // arm_neon.h has no x1 array types: the same shape, by hand
    struct Q {
        uint8x16_t val[1];
    };
    struct D {
        uint8x8_t val[1];
    };
    static Q load16(const std::uint8_t* p) { return {{vld1q_u8(p)}}; }
    static void store16(std::uint8_t* p, Q v) { vst1q_u8(p, v.val[0]); }
    static void store8(std::uint8_t* p, D v) { vst1_u8(p, v.val[0]); }
    template <int L>
    static D load_lane(const std::uint8_t* p, D v) { return {{vld1_lane_u8(p, v.val[0], L)}}; }
};
template <>
struct Pixels<2> {
    using Q = uint8x16x2_t;
    using D = uint8x8x2_t;
    static Q load16(const std::uint8_t* p) { return vld2q_u8(p); }
    static void store16(std::uint8_t* p, Q v) { vst2q_u8(p, v); }
    static void store8(std::uint8_t* p, D v) { vst2_u8(p, v); }
    template <int L>
    static D load_lane(const std::uint8_t* p, D v) { return vld2_lane_u8(p, v, L); }
};
template <>
struct Pixels<3> {
    using Q = uint8x16x3_t;
    using D = uint8x8x3_t;
    static Q load16(const std::uint8_t* p) { return vld3q_u8(p); }
    static void store16(std::uint8_t* p, Q v) { vst3q_u8(p, v); }
    static void store8(std::uint8_t* p, D v) { vst3_u8(p, v); }
    template <int L>
    static D load_lane(const std::uint8_t* p, D v) { return vld3_lane_u8(p, v, L); }
};
template <>
struct Pixels<4> {
    using Q = uint8x16x4_t;
    using D = uint8x8x4_t;
    static Q load16(const std::uint8_t* p) { return vld4q_u8(p); }
    static void store16(std::uint8_t* p, Q v) { vst4q_u8(p, v); }
    static void store8(std::uint8_t* p, D v) { vst4_u8(p, v); }
    template <int L>
    static D load_lane(const std::uint8_t* p, D v) { return vld4_lane_u8(p, v, L); }
};

// ---- blend ----------------------------------------------------------------------------------
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

// ---- remap_bilinear -------------------------------------------------------------------------
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

void box_sum_neon(const std::uint32_t* src, int width, int height, int r, std::uint32_t* dst,
                  std::uint32_t* scratch) {
    // scratch = [r copies of column[0]] [column sums, width] [r copies of column[width - 1]]:
    // the reference's padded row, kept up to date row by row, so dst is written once.
    if (width <= 0 || height <= 0) return;
    const std::size_t w = static_cast<std::size_t>(width);
    std::uint32_t* padded = scratch;
    std::uint32_t* column = scratch + r;
    std::memset(column, 0, w * sizeof(std::uint32_t));
    for (int dy = -r; dy <= r; ++dy) {
        const int row = max_int(min_int(dy, height - 1), 0);
        update_column(column, src + w * static_cast<std::size_t>(row), nullptr, w);
    }
    for (int y = 0; y < height; ++y) {
        const std::uint32_t first = column[0], last = column[w - 1];
        for (int i = 0; i < r; ++i) {
            padded[i] = first;
            column[w + static_cast<std::size_t>(i)] = last;
        }
        box_row(padded, w, r, dst + w * static_cast<std::size_t>(y));
        if (y + 1 == height) break;
        const int entering = min_int(y + r + 1, height - 1), leaving = max_int(y - r, 0);
        update_column(column, src + w * static_cast<std::size_t>(entering),
                      src + w * static_cast<std::size_t>(leaving), w);
    }
}

void guided_coefficients_neon(const std::uint32_t* sum_i, const std::uint32_t* sum_ii,
                              std::size_t count, float inv_n, float eps, std::uint32_t* a_q,
                              std::uint32_t* b_q) {
    Coefficients k;
    k.inv = vdupq_n_f32(inv_n);
    k.eps = vdupq_n_f32(eps);
    k.zero = vdupq_n_f32(0.0f);
    k.half = vdupq_n_f32(0.5f);
    k.a_scale = vdupq_n_f32(4096.0f);
    k.b_scale = vdupq_n_f32(16.0f);
    std::size_t i = 0;
    for (; i + 8 <= count; i += 8) {
        coefficients4(k, sum_i + i, sum_ii + i, a_q + i, b_q + i);
        coefficients4(k, sum_i + i + 4, sum_ii + i + 4, a_q + i + 4, b_q + i + 4);
    }
    if (i < count)
        guided_coefficients_scalar(sum_i + i, sum_ii + i, count - i, inv_n, eps, a_q + i, b_q + i);
}

void guided_output_neon(const std::uint32_t* sum_a, const std::uint32_t* sum_b,
                        const std::uint8_t* guide, int pixel_stride, std::size_t count,
                        float inv_n, std::uint8_t* out, int out_stride) {
    std::size_t done = 0;
    if (pixel_stride > 0 && out_stride > 0) {
        auto blocks = [&](auto stride) {  // 0: a stride known only at run time
            return guided_output_blocks_for<decltype(stride)::value>(
                sum_a, sum_b, guide, pixel_stride, count, inv_n, out, out_stride);
        };
        done = with_channels(pixel_stride, blocks,
                             [&] { return blocks(std::integral_constant<int, 0>{}); });
    }
    if (done < count)
        guided_output_scalar(sum_a + done, sum_b + done,
                             guide + done * static_cast<std::size_t>(pixel_stride), pixel_stride,
                             count - done, inv_n, out + done * static_cast<std::size_t>(out_stride),
                             out_stride);
}

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

// ---- apply_table ----------------------------------------------------------------------------
// out = table[in] by four 64-entry lookups: vqtbl4q_u8 on in, then vqtbx4q_u8 (which keeps the
// previous byte where the index is >= 64) on in - 64, in - 128, in - 192 (wrapping: each is
// below 64 exactly for the bytes of its quarter).

namespace {

struct TableQuarters {
    uint8x16x4_t q[4];
    explicit TableQuarters(const std::uint8_t* table) {
        for (int k = 0; k < 4; ++k)
            for (int j = 0; j < 4; ++j) q[k].val[j] = vld1q_u8(table + 64 * k + 16 * j);
    }
    uint8x16_t lookup(uint8x16_t x) const {
        const uint8x16_t step = vdupq_n_u8(64);
        uint8x16_t r = vqtbl4q_u8(q[0], x);
        x = vsubq_u8(x, step);
        r = vqtbx4q_u8(r, q[1], x);
        x = vsubq_u8(x, step);
        r = vqtbx4q_u8(r, q[2], x);
        x = vsubq_u8(x, step);
        return vqtbx4q_u8(r, q[3], x);
    }
};

// ---- lut3d ----------------------------------------------------------------------------------
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

void apply_table_neon(const std::uint8_t* in, std::size_t count, const std::uint8_t table[256],
                      std::uint8_t* out) {
    std::size_t i = 0;
    if (count >= 16) {
        const TableQuarters quarters(table);
        // Two vectors per step for independent chains; each block is read before it is written,
        // so in == out works.
        for (; i + 32 <= count; i += 32) {
            const uint8x16_t r0 = quarters.lookup(vld1q_u8(in + i));
            const uint8x16_t r1 = quarters.lookup(vld1q_u8(in + i + 16));
            vst1q_u8(out + i, r0);
            vst1q_u8(out + i + 16, r1);
        }
        for (; i + 16 <= count; i += 16) vst1q_u8(out + i, quarters.lookup(vld1q_u8(in + i)));
    }
    if (i < count) apply_table_scalar(in + i, count - i, table, out + i);
}

void lut3d_neon(const std::uint8_t* in, std::size_t count, const std::uint8_t* lut, int size,
                std::uint8_t* out) {
    // The 16-bit positions and offsets need size <= 256 (not a limit the engine reaches); other
    // sizes and tails run the reference.
    const std::size_t done =
        (size >= 2 && size <= 256) ? lut3d_blocks(in, count, lut, size, out) : 0;
    if (done < count) lut3d_scalar(in + 3 * done, count - done, lut, size, out + 3 * done);
}

}  // namespace facekit::kernels
