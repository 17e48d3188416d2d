// SSE4.1 path of the fused crop + normalize kernel: 4 output pixels per step. Coordinates and
// weights are computed in vectors, neighbours are loaded lane by lane (no gather before AVX2),
// and the blend runs in vectors again. Float operations match crop_normalize.cpp one for one
// (built with -ffp-contract=off; separate mul/add only), so the output is bit-identical.
#include <smmintrin.h>

#include <cstdint>
#include <cstring>

#include "kernels/kernels.h"

namespace facekit::kernels {
namespace {

constexpr int kLanes = 4;

struct Setup {
    const std::uint8_t* base;
    __m128i last_x, last_y;  // width - 1, height - 1
    __m128i stride;          // fits int32: the image spans under 2 GiB
    __m128i pick[3];         // pshufb controls moving the R, G, B byte of each pixel to byte 0
    __m128 scale[3], offset[3];
};

// pshufb control that keeps byte `b` of every 32-bit lane, zero-extended.
__m128i byte_picker(int b) {
    const char z = static_cast<char>(0x80);  // high bit set: pshufb writes a zero byte
    return _mm_setr_epi8(static_cast<char>(b), z, z, z, static_cast<char>(b + 4), z, z, z,
                         static_cast<char>(b + 8), z, z, z, static_cast<char>(b + 12), z, z, z);
}

template <int Bpp>
inline __m128i column_bytes(__m128i x) {
    if constexpr (Bpp == 1) return x;
    if constexpr (Bpp == 3) return _mm_add_epi32(_mm_slli_epi32(x, 1), x);
    return _mm_slli_epi32(x, 2);
}

inline __m128i clamp(__m128i v, __m128i hi) {
    return _mm_min_epi32(_mm_max_epi32(v, _mm_setzero_si128()), hi);
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
inline __m128i fetch(const Setup& s, __m128i off) {
    alignas(16) std::int32_t o[kLanes];
    _mm_store_si128(reinterpret_cast<__m128i*>(o), off);
    return _mm_setr_epi32(static_cast<int>(load_pixel<Bpp>(s.base + o[0])),
                          static_cast<int>(load_pixel<Bpp>(s.base + o[1])),
                          static_cast<int>(load_pixel<Bpp>(s.base + o[2])),
                          static_cast<int>(load_pixel<Bpp>(s.base + o[3])));
}

// One channel of four neighbour words as floats (gray words hold just the one byte).
template <int Bpp>
inline __m128 channel(__m128i word, __m128i pick) {
    if constexpr (Bpp == 1) return _mm_cvtepi32_ps(word);
    return _mm_cvtepi32_ps(_mm_shuffle_epi8(word, pick));
}

// The reference's bilinear blend, operation for operation.
inline __m128 bilinear(__m128 p00, __m128 p01, __m128 p10, __m128 p11, __m128 wx, __m128 wy) {
    const __m128 top = _mm_add_ps(p00, _mm_mul_ps(wx, _mm_sub_ps(p01, p00)));
    const __m128 bottom = _mm_add_ps(p10, _mm_mul_ps(wx, _mm_sub_ps(p11, p10)));
    return _mm_add_ps(top, _mm_mul_ps(wy, _mm_sub_ps(bottom, top)));
}

// Writes 4 pixels of planar R, G, B as 12 interleaved floats: rotating the three vectors lines
// every element up with its output slot, so two blends build each output group.
inline void store_rgb(float* out, __m128 r, __m128 g, __m128 b) {
    const __m128 rr = _mm_shuffle_ps(r, r, _MM_SHUFFLE(1, 2, 3, 0));  // r0 r3 r2 r1
    const __m128 gg = _mm_shuffle_ps(g, g, _MM_SHUFFLE(2, 3, 0, 1));  // g1 g0 g3 g2
    const __m128 bb = _mm_shuffle_ps(b, b, _MM_SHUFFLE(3, 0, 1, 2));  // b2 b1 b0 b3
    _mm_storeu_ps(out, _mm_blend_ps(_mm_blend_ps(rr, gg, 0x2), bb, 0x4));      // r0 g0 b0 r1
    _mm_storeu_ps(out + 4, _mm_blend_ps(_mm_blend_ps(gg, bb, 0x2), rr, 0x4));  // g1 b1 r2 g2
    _mm_storeu_ps(out + 8, _mm_blend_ps(_mm_blend_ps(bb, rr, 0x2), gg, 0x4));  // b2 r3 g3 b3
}

template <int Bpp, bool ZeroBorder>
void crop_rows(const ImageView& src, const CropNormalize& p, const Setup& s, float* out) {
    const int width = p.out_width;
    const __m128 step_x = _mm_set1_ps(static_cast<float>(p.transform.m[0]));
    const __m128 step_y = _mm_set1_ps(static_cast<float>(p.transform.m[3]));
    const __m128i iota = _mm_setr_epi32(0, 1, 2, 3);
    const __m128i one = _mm_set1_epi32(1);
    const std::ptrdiff_t row_floats = static_cast<std::ptrdiff_t>(width) * 3;

    for (int y = 0; y < p.out_height; ++y) {
        float* out_row = out + y * row_floats;
        const RowOrigin o = row_origin(p.transform, y);
        const __m128 origin_x = _mm_set1_ps(o.x), origin_y = _mm_set1_ps(o.y);
        int x = 0;
        for (; x + kLanes <= width; x += kLanes) {
            const __m128 fx = _mm_cvtepi32_ps(_mm_add_epi32(_mm_set1_epi32(x), iota));
            const __m128 sx = _mm_add_ps(origin_x, _mm_mul_ps(step_x, fx));
            const __m128 sy = _mm_add_ps(origin_y, _mm_mul_ps(step_y, fx));
            const __m128 floor_x = _mm_floor_ps(sx), floor_y = _mm_floor_ps(sy);
            const __m128 wx = _mm_sub_ps(sx, floor_x), wy = _mm_sub_ps(sy, floor_y);
            const __m128i x0 = _mm_cvttps_epi32(floor_x), y0 = _mm_cvttps_epi32(floor_y);
            const __m128i x1 = _mm_add_epi32(x0, one), y1 = _mm_add_epi32(y0, one);

            // Clamped coordinates address every read; in Zero mode a neighbour whose clamp moved
            // it lies outside the image and is zeroed after the load.
            const __m128i cx0 = clamp(x0, s.last_x), cx1 = clamp(x1, s.last_x);
            const __m128i cy0 = clamp(y0, s.last_y), cy1 = clamp(y1, s.last_y);
            const __m128i row0 = _mm_mullo_epi32(cy0, s.stride);
            const __m128i row1 = _mm_mullo_epi32(cy1, s.stride);
            const __m128i col0 = column_bytes<Bpp>(cx0), col1 = column_bytes<Bpp>(cx1);
            __m128i w00 = fetch<Bpp>(s, _mm_add_epi32(row0, col0));
            __m128i w01 = fetch<Bpp>(s, _mm_add_epi32(row0, col1));
            __m128i w10 = fetch<Bpp>(s, _mm_add_epi32(row1, col0));
            __m128i w11 = fetch<Bpp>(s, _mm_add_epi32(row1, col1));
            if constexpr (ZeroBorder) {
                const __m128i in_x0 = _mm_cmpeq_epi32(cx0, x0), in_x1 = _mm_cmpeq_epi32(cx1, x1);
                const __m128i in_y0 = _mm_cmpeq_epi32(cy0, y0), in_y1 = _mm_cmpeq_epi32(cy1, y1);
                w00 = _mm_and_si128(w00, _mm_and_si128(in_x0, in_y0));
                w01 = _mm_and_si128(w01, _mm_and_si128(in_x1, in_y0));
                w10 = _mm_and_si128(w10, _mm_and_si128(in_x0, in_y1));
                w11 = _mm_and_si128(w11, _mm_and_si128(in_x1, in_y1));
            }

            __m128 rgb[3];
            if constexpr (Bpp == 1) {
                // Gray: one interpolation serves all three channels.
                const __m128 v = bilinear(channel<1>(w00, s.pick[0]), channel<1>(w01, s.pick[0]),
                                          channel<1>(w10, s.pick[0]), channel<1>(w11, s.pick[0]),
                                          wx, wy);
                for (int c = 0; c < 3; ++c)
                    rgb[c] = _mm_add_ps(_mm_mul_ps(v, s.scale[c]), s.offset[c]);
            } else {
                for (int c = 0; c < 3; ++c) {
                    const __m128 v = bilinear(
                        channel<Bpp>(w00, s.pick[c]), channel<Bpp>(w01, s.pick[c]),
                        channel<Bpp>(w10, s.pick[c]), channel<Bpp>(w11, s.pick[c]), wx, wy);
                    rgb[c] = _mm_add_ps(_mm_mul_ps(v, s.scale[c]), s.offset[c]);
                }
            }
            store_rgb(out_row + static_cast<std::ptrdiff_t>(x) * 3, rgb[0], rgb[1], rgb[2]);
        }
        if (x < width) crop_normalize_span_scalar(src, p, y, x, width, out_row);
    }
}

}  // namespace

void crop_normalize_sse41(const ImageView& src, const CropNormalize& p, float* out) {
    const ChannelMap map = rgb_channel_map(src.format);
    Setup s;
    s.base = src.data;
    s.last_x = _mm_set1_epi32(src.width - 1);
    s.last_y = _mm_set1_epi32(src.height - 1);
    // A one-row image never steps by its stride, which validate() leaves unchecked.
    s.stride = _mm_set1_epi32(src.height > 1 ? static_cast<int>(src.stride) : 0);
    s.pick[0] = byte_picker(map.r);
    s.pick[1] = byte_picker(map.g);
    s.pick[2] = byte_picker(map.b);
    for (int c = 0; c < 3; ++c) {
        s.scale[c] = _mm_set1_ps(p.scale[c]);
        s.offset[c] = _mm_set1_ps(p.offset[c]);
    }
    with_layout(src.format, p.border, [&](auto bpp, auto zero_border) {
        crop_rows<decltype(bpp)::value, decltype(zero_border)::value>(src, p, s, out);
    });
}

}  // namespace facekit::kernels
