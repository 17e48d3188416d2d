// NEON (aarch64) path of the guided filter's output (guided_output.cpp is the reference;
// simd_neon.h says how every path stays bit-identical to it).
#include "kernels/simd_neon.h"

namespace facekit::kernels {

namespace {

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

}  // namespace

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

}  // namespace facekit::kernels
