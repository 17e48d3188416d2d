// NEON (aarch64) path of the fused crop + normalize kernel: 4 output pixels per step.
// Coordinates and weights are computed in vectors, neighbours are loaded lane by lane (NEON has
// no gather), the blend runs in vectors and vst3q interleaves the RGB store. Float operations
// match crop_normalize.cpp one for one: vmulq + vaddq, never vmlaq/vfmaq (and the file is built
// with -ffp-contract=off), so the output is bit-identical.
//
// Neighbours are fetched one of two ways per block, as in the AVX2 path:
//  - interior colour blocks (every neighbour of every lane inside the image: the usual case)
//    read each lane's left and right neighbour with one 8-byte load per source row, and tbl
//    picks each channel's bytes from the four lanes' loads: 8 loads per block instead of 16
//    pixel reads of two or three loads each (about a third fewer instructions per block);
//  - other blocks read each neighbour at its clamped coordinates; in Zero mode a block whose
//    neighbours all lie outside the image reads nothing and stores the offset (letterbox bands).
#include <arm_neon.h>

#include <cstdint>
#include <cstring>

#include "kernels/kernels.h"

namespace facekit::kernels {
namespace {

constexpr int kLanes = 4;

struct Setup {
    const std::uint8_t* base;
    int32x4_t last_x, last_y;  // width - 1, height - 1
    int32x4_t stride;          // fits int32: the image spans under 2 GiB
    uint8x16_t pick[3];        // tbl indices moving the R, G, B byte of each pixel to byte 0
    float32x4_t scale[3], offset[3];
    float32x4_t outside[3];    // what Zero mode gives where every neighbour is outside the image
    // Interior blocks: x0 <= wide_last_x keeps the 8-byte load from x0 inside its row, and
    // y0 <= last_y0 keeps row y0 + 1 inside the image. `interior` is false when no block can be.
    uint32x4_t wide_last_x, last_y0;
    bool interior;
    std::ptrdiff_t stride_bytes;  // from row y0 to row y0 + 1
    uint8x16_t pair_pick[3][2];   // tbl2 indices: channel c of the left / right neighbour
};

// tbl indices moving byte `b` of each of four `width`-byte source lanes into the matching
// 32-bit lane, zero-extended (index 0xFF reads as 0).
uint8x16_t lane_picker(int width, int b) {
    std::uint8_t idx[16];
    for (int lane = 0; lane < 4; ++lane) {
        idx[4 * lane] = static_cast<std::uint8_t>(width * lane + b);
        idx[4 * lane + 1] = idx[4 * lane + 2] = idx[4 * lane + 3] = 0xFF;
    }
    return vld1q_u8(idx);
}

// Byte `b` of every 32-bit lane.
uint8x16_t byte_picker(int b) { return lane_picker(4, b); }

template <int Bpp>
inline int32x4_t column_bytes(int32x4_t x) {
    if constexpr (Bpp == 1) return x;
    if constexpr (Bpp == 3) return vaddq_s32(vshlq_n_s32(x, 1), x);
    return vshlq_n_s32(x, 2);
}

inline int32x4_t clamp(int32x4_t v, int32x4_t hi) {
    return vminq_s32(vmaxq_s32(v, vdupq_n_s32(0)), hi);
}

// One pixel's bytes as a little-endian word, reading exactly the pixel's bytes.
template <int Bpp>
inline std::uint32_t load_pixel(const std::uint8_t* at) {
    if constexpr (Bpp == 1) {
        return at[0];
    } else if constexpr (Bpp == 3) {
        std::uint16_t lo;
        std::memcpy(&lo, at, 2);
        return lo | static_cast<std::uint32_t>(at[2]) << 16;
    } else {
        std::uint32_t word;
        std::memcpy(&word, at, 4);
        return word;
    }
}

template <int Bpp>
inline uint32x4_t fetch(const Setup& s, int32x4_t off) {
    const std::uint32_t w[kLanes] = {
        load_pixel<Bpp>(s.base + vgetq_lane_s32(off, 0)),
        load_pixel<Bpp>(s.base + vgetq_lane_s32(off, 1)),
        load_pixel<Bpp>(s.base + vgetq_lane_s32(off, 2)),
        load_pixel<Bpp>(s.base + vgetq_lane_s32(off, 3))};
    return vld1q_u32(w);
}

// One channel of four neighbour words as floats (gray words hold just the one byte).
template <int Bpp>
inline float32x4_t channel(uint32x4_t word, uint8x16_t pick) {
    if constexpr (Bpp == 1) return vcvtq_f32_u32(word);
    return vcvtq_f32_u32(vreinterpretq_u32_u8(vqtbl1q_u8(vreinterpretq_u8_u32(word), pick)));
}

// The reference's bilinear blend, operation for operation.
inline float32x4_t bilinear(float32x4_t p00, float32x4_t p01, float32x4_t p10, float32x4_t p11,
                            float32x4_t wx, float32x4_t wy) {
    const float32x4_t top = vaddq_f32(p00, vmulq_f32(wx, vsubq_f32(p01, p00)));
    const float32x4_t bottom = vaddq_f32(p10, vmulq_f32(wx, vsubq_f32(p11, p10)));
    return vaddq_f32(top, vmulq_f32(wy, vsubq_f32(bottom, top)));
}

// Lanes with 0 <= v <= hi (hi >= 0): one unsigned compare catches negatives too.
inline uint32x4_t in_range(int32x4_t v, uint32x4_t hi) {
    return vcleq_u32(vreinterpretq_u32_s32(v), hi);
}

// tbl2 indices over four lanes' 8-byte loads (lane i at bytes 8i..8i+7): byte `b` of each.
uint8x16_t pair_picker(int b) { return lane_picker(8, b); }

// Interior colour blocks: channel c of neighbours 00, 01, 10, 11 as floats, from one 8-byte
// load per lane and source row (pixels x0 and x0 + 1 side by side).
template <int Bpp>
inline void fetch_interior(const Setup& s, int32x4_t x0, int32x4_t y0, float32x4_t nb[4][3]) {
    const int32x4_t off = vaddq_s32(vmulq_s32(y0, s.stride), column_bytes<Bpp>(x0));
    const std::ptrdiff_t o[kLanes] = {vgetq_lane_s32(off, 0), vgetq_lane_s32(off, 1),
                                      vgetq_lane_s32(off, 2), vgetq_lane_s32(off, 3)};
    for (int r = 0; r < 2; ++r) {
        const std::uint8_t* row = s.base + r * s.stride_bytes;
        const uint8x16x2_t pairs = {{vcombine_u8(vld1_u8(row + o[0]), vld1_u8(row + o[1])),
                                     vcombine_u8(vld1_u8(row + o[2]), vld1_u8(row + o[3]))}};
        for (int c = 0; c < 3; ++c) {
            for (int n = 0; n < 2; ++n) {
                nb[2 * r + n][c] = vcvtq_f32_u32(
                    vreinterpretq_u32_u8(vqtbl2q_u8(pairs, s.pair_pick[c][n])));
            }
        }
    }
}

template <int Bpp, bool ZeroBorder>
void crop_rows(const ImageView& src, const CropNormalize& p, const Setup& s, float* out) {
    const int width = p.out_width;
    const float32x4_t step_x = vdupq_n_f32(static_cast<float>(p.transform.m[0]));
    const float32x4_t step_y = vdupq_n_f32(static_cast<float>(p.transform.m[3]));
    const int32_t iota_values[kLanes] = {0, 1, 2, 3};
    const int32x4_t iota = vld1q_s32(iota_values);
    const int32x4_t one = vdupq_n_s32(1);
    const std::ptrdiff_t row_floats = static_cast<std::ptrdiff_t>(width) * 3;

    for (int y = 0; y < p.out_height; ++y) {
        float* out_row = out + y * row_floats;
        const RowOrigin o = row_origin(p.transform, y);
        const float32x4_t origin_x = vdupq_n_f32(o.x), origin_y = vdupq_n_f32(o.y);
        int x = 0;
        for (; x + kLanes <= width; x += kLanes) {
            const float32x4_t fx = vcvtq_f32_s32(vaddq_s32(vdupq_n_s32(x), iota));
            const float32x4_t sx = vaddq_f32(origin_x, vmulq_f32(step_x, fx));
            const float32x4_t sy = vaddq_f32(origin_y, vmulq_f32(step_y, fx));
            const float32x4_t floor_x = vrndmq_f32(sx), floor_y = vrndmq_f32(sy);
            const float32x4_t wx = vsubq_f32(sx, floor_x), wy = vsubq_f32(sy, floor_y);
            // The floored values are whole numbers, so truncation converts them exactly.
            const int32x4_t x0 = vcvtq_s32_f32(floor_x), y0 = vcvtq_s32_f32(floor_y);
            float* dst = out_row + static_cast<std::ptrdiff_t>(x) * 3;

            if constexpr (Bpp != 1) {
                const uint32x4_t inside =
                    vandq_u32(in_range(x0, s.wide_last_x), in_range(y0, s.last_y0));
                if (s.interior && vminvq_u32(inside) != 0) {
                    float32x4_t nb[4][3];
                    fetch_interior<Bpp>(s, x0, y0, nb);
                    float32x4x3_t rgb;
                    for (int c = 0; c < 3; ++c) {
                        const float32x4_t v = bilinear(nb[0][c], nb[1][c], nb[2][c], nb[3][c],
                                                       wx, wy);
                        rgb.val[c] = vaddq_f32(vmulq_f32(v, s.scale[c]), s.offset[c]);
                    }
                    vst3q_f32(dst, rgb);
                    continue;
                }
            }

            const int32x4_t x1 = vaddq_s32(x0, one), y1 = vaddq_s32(y0, one);
            // Clamped coordinates address every read; in Zero mode a neighbour whose clamp moved
            // it lies outside the image and is zeroed after the load.
            const int32x4_t cx0 = clamp(x0, s.last_x), cx1 = clamp(x1, s.last_x);
            const int32x4_t cy0 = clamp(y0, s.last_y), cy1 = clamp(y1, s.last_y);
            uint32x4_t m00, m01, m10, m11;
            if constexpr (ZeroBorder) {
                const uint32x4_t in_x0 = vceqq_s32(cx0, x0), in_x1 = vceqq_s32(cx1, x1);
                const uint32x4_t in_y0 = vceqq_s32(cy0, y0), in_y1 = vceqq_s32(cy1, y1);
                m00 = vandq_u32(in_x0, in_y0);
                m01 = vandq_u32(in_x1, in_y0);
                m10 = vandq_u32(in_x0, in_y1);
                m11 = vandq_u32(in_x1, in_y1);
                if (vmaxvq_u32(vorrq_u32(vorrq_u32(m00, m01), vorrq_u32(m10, m11))) == 0) {
                    const float32x4x3_t outside = {{s.outside[0], s.outside[1], s.outside[2]}};
                    vst3q_f32(dst, outside);
                    continue;
                }
            }
            const int32x4_t row0 = vmulq_s32(cy0, s.stride), row1 = vmulq_s32(cy1, s.stride);
            const int32x4_t col0 = column_bytes<Bpp>(cx0), col1 = column_bytes<Bpp>(cx1);
            uint32x4_t w00 = fetch<Bpp>(s, vaddq_s32(row0, col0));
            uint32x4_t w01 = fetch<Bpp>(s, vaddq_s32(row0, col1));
            uint32x4_t w10 = fetch<Bpp>(s, vaddq_s32(row1, col0));
            uint32x4_t w11 = fetch<Bpp>(s, vaddq_s32(row1, col1));
            if constexpr (ZeroBorder) {
                w00 = vandq_u32(w00, m00);
                w01 = vandq_u32(w01, m01);
                w10 = vandq_u32(w10, m10);
                w11 = vandq_u32(w11, m11);
            }

            float32x4x3_t rgb;
            if constexpr (Bpp == 1) {
                // Gray: one interpolation serves all three channels.
                const float32x4_t v =
                    bilinear(channel<1>(w00, s.pick[0]), channel<1>(w01, s.pick[0]),
                             channel<1>(w10, s.pick[0]), channel<1>(w11, s.pick[0]), wx, wy);
                for (int c = 0; c < 3; ++c)
                    rgb.val[c] = vaddq_f32(vmulq_f32(v, s.scale[c]), s.offset[c]);
            } else {
                for (int c = 0; c < 3; ++c) {
                    const float32x4_t v = bilinear(
                        channel<Bpp>(w00, s.pick[c]), channel<Bpp>(w01, s.pick[c]),
                        channel<Bpp>(w10, s.pick[c]), channel<Bpp>(w11, s.pick[c]), wx, wy);
                    rgb.val[c] = vaddq_f32(vmulq_f32(v, s.scale[c]), s.offset[c]);
                }
            }
            vst3q_f32(dst, rgb);
        }
        if (x < width) crop_normalize_span_scalar(src, p, y, x, width, out_row);
    }
}

}  // namespace

void crop_normalize_neon(const ImageView& src, const CropNormalize& p, float* out) {
    const ChannelMap map = rgb_channel_map(src.format);
    Setup s;
    s.base = src.data;
    s.last_x = vdupq_n_s32(src.width - 1);
    s.last_y = vdupq_n_s32(src.height - 1);
    // A one-row image never steps by its stride, which validate() leaves unchecked.
    s.stride = vdupq_n_s32(src.height > 1 ? static_cast<int>(src.stride) : 0);
    s.pick[0] = byte_picker(map.r);
    s.pick[1] = byte_picker(map.g);
    s.pick[2] = byte_picker(map.b);
    const int channel[3] = {map.r, map.g, map.b};
    const int bpp = bytes_per_pixel(src.format);
    // The interior path's 8-byte loads from x0 end inside the row while x0 <= width - wide.
    const int wide = bpp == 3 ? 3 : 2;
    s.interior = bpp != 1 && src.width >= wide && src.height >= 2;
    s.wide_last_x = vdupq_n_u32(static_cast<std::uint32_t>(src.width - wide));
    s.last_y0 = vdupq_n_u32(static_cast<std::uint32_t>(src.height - 2));
    s.stride_bytes = src.height > 1 ? src.stride : 0;
    for (int c = 0; c < 3; ++c) {
        s.scale[c] = vdupq_n_f32(p.scale[c]);
        s.offset[c] = vdupq_n_f32(p.offset[c]);
        // The reference's blend of four zero neighbours is +0, then scaled and offset.
        s.outside[c] = vaddq_f32(vmulq_f32(vdupq_n_f32(0.0f), s.scale[c]), s.offset[c]);
        s.pair_pick[c][0] = pair_picker(channel[c]);
        s.pair_pick[c][1] = pair_picker(bpp + channel[c]);
    }
    with_layout(src.format, p.border, [&](auto bpp, auto zero_border) {
        crop_rows<decltype(bpp)::value, decltype(zero_border)::value>(src, p, s, out);
    });
}

}  // namespace facekit::kernels
