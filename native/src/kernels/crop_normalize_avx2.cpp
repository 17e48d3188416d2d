// AVX2 path of the fused crop + normalize kernel: 8 output pixels per step. It repeats
// crop_normalize.cpp's float operations in the same order (no FMA: the file is built with
// -ffp-contract=off and uses only separate mul/add intrinsics), so its output equals the scalar
// reference bit for bit.
//
// Layout: colour blocks are computed directly in the interleaved output order. Vector k (0..2)
// holds output floats 8k..8k+7 of the block, i.e. (pixel, channel) = ((8k+j)/3, (8k+j)%3), so
// the three results are stored as they are and weights are spread to match with one permute.
// Gray blends once per pixel in planar order and spreads the result.
//
// Neighbours are fetched one of two ways per block:
//  - interior blocks (every neighbour of every lane inside the image: the usual case) read each
//    lane's left and right neighbour with one 8-byte load per source row (4 bytes for gray),
//    broadcast and blended into place, then pshufb picks the bytes each output slot needs.
//    This is several times faster than vpgatherdd on CPUs whose gathers are microcoded slowly
//    (Intel with the Gather Data Sampling fix: ~40 cycles per 8-lane gather).
//  - other blocks use masked 32-bit gathers of clamped coordinates: lanes outside the image in
//    Zero mode are masked off and read 0, and blocks wholly outside read nothing.
// Blocks are visited down bands of output rows, so consecutive blocks sample nearby source rows
// (an output row of a rotated crop crosses many source rows, each on its own pages), and each
// interior block prefetches what the block to its right, due kBandRows blocks later, will read:
// the hardware prefetchers cannot follow such a walk.
#include <immintrin.h>

#include <cmath>
#include <cstdint>
#include <cstring>

#include "kernels/kernels.h"

namespace facekit::kernels {
namespace {

constexpr int kLanes = 8;
constexpr int kBandRows = 8;

// For output vector k, the pixel (0..7) whose value each of the 8 slots holds.
constexpr int kSlotPixel[3][8] = {
    {0, 0, 0, 1, 1, 1, 2, 2}, {2, 3, 3, 3, 4, 4, 4, 5}, {5, 5, 6, 6, 6, 7, 7, 7}};
// For output vector k and 128-bit half h, the first of the two pixels that half covers.
constexpr int kHalfPixel[3][2] = {{0, 1}, {2, 4}, {5, 6}};

// Per-call constants shared by every block.
struct Setup {
    const std::uint8_t* top;     // src.data: the row of y0
    const std::uint8_t* bottom;  // src.data + stride: the row of y0 + 1
    __m256i last_x, last_y;      // width - 1, height - 1
    __m256i stride;              // row stride in bytes (fits int32: the image spans under 2 GiB)
    __m256i last_word;           // highest offset a 4-byte gather may start at: end_offset - 4
    // Interior blocks: x0 <= wide_last_x keeps the wide load from x0 inside its row, and
    // y0 <= last_y0 keeps row y0 + 1 inside the image. `interior` is false when no block can be.
    __m256i wide_last_x, last_y0;
    bool interior;
    std::ptrdiff_t next_block;    // source bytes between a block and the one to its right (roughly)
    std::ptrdiff_t stride_bytes;  // stride, for the prefetch of row y0 + 1
    __m256i spread[3];       // permutevar8x32 indices: planar lane i -> slots of output vector k
    __m256i pair_pick[3][2]; // pshufb: left / right neighbour bytes of 8-byte pair loads, per k
    __m256i word_pick[3];    // pshufb: channel bytes of 4-byte pixel words spread by `spread`
    __m256 scale[3], offset[3];  // per slot of output vector k
    __m256 outside[3];           // what Zero mode writes for a block wholly outside the image
};

// x * Bpp without the slow 32-bit vector multiply.
template <int Bpp>
inline __m256i column_bytes(__m256i x) {
    if constexpr (Bpp == 1) return x;
    if constexpr (Bpp == 3) return _mm256_add_epi32(_mm256_slli_epi32(x, 1), x);
    return _mm256_slli_epi32(x, 2);
}

inline __m256i clamp(__m256i v, __m256i hi) {
    return _mm256_min_epi32(_mm256_max_epi32(v, _mm256_setzero_si256()), hi);
}

// Lanes with 0 <= v <= hi (hi >= 0): one unsigned min catches negatives too.
inline __m256i in_range(__m256i v, __m256i hi) {
    return _mm256_cmpeq_epi32(_mm256_min_epu32(v, hi), v);
}

// ---- interior blocks: one wide load per lane and source row ----------------------------------

inline __m256i broadcast_u64(const std::uint8_t* at) {
    std::int64_t v;
    std::memcpy(&v, at, 8);
    return _mm256_set1_epi64x(v);
}

inline __m256i broadcast_u32(const std::uint8_t* at) {
    std::int32_t v;
    std::memcpy(&v, at, 4);
    return _mm256_set1_epi32(v);
}

// Byte offsets of (x0, y0) per lane, stored for the scalar loads that follow.
template <int Bpp>
inline void store_offsets(const Setup& s, __m256i x0, __m256i y0, std::int32_t off[kLanes]) {
    _mm256_store_si256(reinterpret_cast<__m256i*>(off),
                       _mm256_add_epi32(_mm256_mullo_epi32(y0, s.stride), column_bytes<Bpp>(x0)));
    // Make the compiler read the offsets back from memory: by itself it extracts the lanes with
    // vpextrd, two uops each on the port the shuffles already keep busy.
    asm("" : "+m"(*reinterpret_cast<std::int32_t(*)[kLanes]>(off)));
}

// Hints the cache lines that the block to the right will read in both source rows (lanes 0, 4
// and 7 cover a block's span). Integer arithmetic: the address may lie outside the image, which
// a prefetch tolerates but pointer arithmetic would not.
inline void prefetch_next_block(const Setup& s, const std::int32_t off[kLanes]) {
    for (int i : {0, 4, 7}) {
        const std::uintptr_t at = reinterpret_cast<std::uintptr_t>(s.top) +
                                  static_cast<std::uintptr_t>(off[i] + s.next_block);
        const std::uintptr_t below = at + static_cast<std::uintptr_t>(s.stride_bytes);
        _mm_prefetch(reinterpret_cast<const char*>(at), _MM_HINT_T0);
        _mm_prefetch(reinterpret_cast<const char*>(below), _MM_HINT_T0);
    }
}

// Colour: neighbours (n = 00, 01, 10, 11) of output vector k's slots, as integers.
template <int Bpp>
inline void fetch_interior(const Setup& s, __m256i x0, __m256i y0, __m256i nb[4][3]) {
    alignas(32) std::int32_t off[kLanes];
    store_offsets<Bpp>(s, x0, y0, off);
    prefetch_next_block(s, off);
    for (int r = 0; r < 2; ++r) {
        const std::uint8_t* row = r == 0 ? s.top : s.bottom;
        __m256i q[kLanes];  // lane i's pixels x0 and x0 + 1, in every 64-bit slot
        for (int i = 0; i < kLanes; ++i) q[i] = broadcast_u64(row + off[i]);
        // Each 128-bit half of vector k holds the pixel pairs of the two pixels it covers
        // (kHalfPixel): lanes 0 1 | 1 2, then 2 3 | 4 5, then 5 6 | 6 7.
        const __m256i pairs[3] = {
            _mm256_blend_epi32(_mm256_blend_epi32(q[1], q[0], 0x03), q[2], 0xC0),
            _mm256_blend_epi32(_mm256_blend_epi32(q[2], q[3], 0x0C),
                               _mm256_blend_epi32(q[4], q[5], 0xC0), 0xF0),
            _mm256_blend_epi32(_mm256_blend_epi32(q[6], q[5], 0x03), q[7], 0xC0)};
        for (int k = 0; k < 3; ++k) {
            nb[2 * r][k] = _mm256_shuffle_epi8(pairs[k], s.pair_pick[k][0]);
            nb[2 * r + 1][k] = _mm256_shuffle_epi8(pairs[k], s.pair_pick[k][1]);
        }
    }
}

// Gray: neighbours in planar lane order; bytes x0 and x0 + 1 are the low two of each word.
inline void fetch_interior_gray(const Setup& s, __m256i x0, __m256i y0, __m256i nb[4]) {
    alignas(32) std::int32_t off[kLanes];
    store_offsets<1>(s, x0, y0, off);
    prefetch_next_block(s, off);
    const __m256i byte = _mm256_set1_epi32(0xFF);
    for (int r = 0; r < 2; ++r) {
        const std::uint8_t* row = r == 0 ? s.top : s.bottom;
        __m256i w = broadcast_u32(row + off[0]);
        for (int i = 1; i < kLanes; ++i)
            w = _mm256_blend_epi32(w, broadcast_u32(row + off[i]), 1 << i);
        nb[2 * r] = _mm256_and_si256(w, byte);
        nb[2 * r + 1] = _mm256_and_si256(_mm256_srli_epi32(w, 8), byte);
    }
}

// ---- border blocks: masked gathers of clamped coordinates -------------------------------------

// The 4 bytes at each byte offset; lanes off in `mask` read no memory and give 0. A pixel of
// 1 or 3 bytes near the end of the image would make the 4-byte read run past the image's memory,
// so such offsets are pulled back to the last whole word and the word shifted down to the pixel.
template <int Bpp>
inline __m256i gather(const Setup& s, __m256i off, __m256i mask) {
    const int* base = reinterpret_cast<const int*>(s.top);
    if constexpr (Bpp == 4) {
        return _mm256_mask_i32gather_epi32(_mm256_setzero_si256(), base, off, mask, 1);
    } else {
        const __m256i safe = _mm256_min_epi32(off, s.last_word);
        const __m256i word =
            _mm256_mask_i32gather_epi32(_mm256_setzero_si256(), base, safe, mask, 1);
        return _mm256_srlv_epi32(word, _mm256_slli_epi32(_mm256_sub_epi32(off, safe), 3));
    }
}

// Pixel words of the four neighbours of any lanes, planar (lane i = pixel i). In Zero mode
// returns false, reading nothing, when every neighbour of every lane lies outside the image.
template <int Bpp, bool ZeroBorder>
inline bool gather_border(const Setup& s, __m256i x0, __m256i y0, __m256i word[4]) {
    const __m256i one = _mm256_set1_epi32(1);
    const __m256i x1 = _mm256_add_epi32(x0, one), y1 = _mm256_add_epi32(y0, one);
    const __m256i cx0 = clamp(x0, s.last_x), cx1 = clamp(x1, s.last_x);
    const __m256i cy0 = clamp(y0, s.last_y), cy1 = clamp(y1, s.last_y);
    __m256i mask[4];
    if constexpr (ZeroBorder) {
        // A neighbour the clamp moved lies outside the image: its lane reads 0.
        const __m256i in_x0 = _mm256_cmpeq_epi32(cx0, x0), in_x1 = _mm256_cmpeq_epi32(cx1, x1);
        const __m256i in_y0 = _mm256_cmpeq_epi32(cy0, y0), in_y1 = _mm256_cmpeq_epi32(cy1, y1);
        mask[0] = _mm256_and_si256(in_x0, in_y0);
        mask[1] = _mm256_and_si256(in_x1, in_y0);
        mask[2] = _mm256_and_si256(in_x0, in_y1);
        mask[3] = _mm256_and_si256(in_x1, in_y1);
        const __m256i any = _mm256_or_si256(_mm256_or_si256(mask[0], mask[1]),
                                            _mm256_or_si256(mask[2], mask[3]));
        if (_mm256_testz_si256(any, any)) return false;
    } else {
        mask[0] = mask[1] = mask[2] = mask[3] = _mm256_set1_epi32(-1);
    }
    const __m256i row0 = _mm256_mullo_epi32(cy0, s.stride);
    const __m256i row1 = _mm256_mullo_epi32(cy1, s.stride);
    const __m256i col0 = column_bytes<Bpp>(cx0), col1 = column_bytes<Bpp>(cx1);
    word[0] = gather<Bpp>(s, _mm256_add_epi32(row0, col0), mask[0]);
    word[1] = gather<Bpp>(s, _mm256_add_epi32(row0, col1), mask[1]);
    word[2] = gather<Bpp>(s, _mm256_add_epi32(row1, col0), mask[2]);
    word[3] = gather<Bpp>(s, _mm256_add_epi32(row1, col1), mask[3]);
    return true;
}

// ---- blending and output ----------------------------------------------------------------------

// The reference's bilinear blend: top = p00 + wx*(p01-p00), bottom likewise, then
// top + wy*(bottom-top). The byte differences are taken in integers before converting, which
// gives the same float as subtracting the converted bytes (both are exact) with fewer FP uops.
inline __m256 bilinear(__m256i p00, __m256i p01, __m256i p10, __m256i p11, __m256 wx, __m256 wy) {
    const __m256 d0 = _mm256_cvtepi32_ps(_mm256_sub_epi32(p01, p00));
    const __m256 d1 = _mm256_cvtepi32_ps(_mm256_sub_epi32(p11, p10));
    const __m256 top = _mm256_add_ps(_mm256_cvtepi32_ps(p00), _mm256_mul_ps(wx, d0));
    const __m256 bottom = _mm256_add_ps(_mm256_cvtepi32_ps(p10), _mm256_mul_ps(wx, d1));
    return _mm256_add_ps(top, _mm256_mul_ps(wy, _mm256_sub_ps(bottom, top)));
}

template <int Bpp, bool ZeroBorder>
inline void crop_block(const Setup& s, __m256 sx, __m256 sy, float* dst) {
    const __m256 floor_x = _mm256_floor_ps(sx), floor_y = _mm256_floor_ps(sy);
    const __m256 wx = _mm256_sub_ps(sx, floor_x), wy = _mm256_sub_ps(sy, floor_y);
    const __m256i x0 = _mm256_cvttps_epi32(floor_x), y0 = _mm256_cvttps_epi32(floor_y);
    const __m256i interior = _mm256_and_si256(in_range(x0, s.wide_last_x), in_range(y0, s.last_y0));
    const bool fast = s.interior && _mm256_movemask_ps(_mm256_castsi256_ps(interior)) == 0xFF;

    __m256 value[3];
    if constexpr (Bpp == 1) {
        __m256i nb[4];
        if (fast) {
            fetch_interior_gray(s, x0, y0, nb);
        } else {
            if (!gather_border<1, ZeroBorder>(s, x0, y0, nb)) {
                for (int k = 0; k < 3; ++k) _mm256_storeu_ps(dst + 8 * k, s.outside[k]);
                return;
            }
            for (__m256i& w : nb) w = _mm256_and_si256(w, _mm256_set1_epi32(0xFF));
        }
        // The reference blends the same gray value for all three channels.
        const __m256 v = bilinear(nb[0], nb[1], nb[2], nb[3], wx, wy);
        for (int k = 0; k < 3; ++k) value[k] = _mm256_permutevar8x32_ps(v, s.spread[k]);
    } else {
        __m256i nb[4][3];
        if (fast) {
            fetch_interior<Bpp>(s, x0, y0, nb);
        } else {
            __m256i word[4];
            if (!gather_border<Bpp, ZeroBorder>(s, x0, y0, word)) {
                for (int k = 0; k < 3; ++k) _mm256_storeu_ps(dst + 8 * k, s.outside[k]);
                return;
            }
            for (int n = 0; n < 4; ++n) {
                for (int k = 0; k < 3; ++k) {
                    const __m256i spread = _mm256_permutevar8x32_epi32(word[n], s.spread[k]);
                    nb[n][k] = _mm256_shuffle_epi8(spread, s.word_pick[k]);
                }
            }
        }
        for (int k = 0; k < 3; ++k) {
            const __m256 wxk = _mm256_permutevar8x32_ps(wx, s.spread[k]);
            const __m256 wyk = _mm256_permutevar8x32_ps(wy, s.spread[k]);
            value[k] = bilinear(nb[0][k], nb[1][k], nb[2][k], nb[3][k], wxk, wyk);
        }
    }
    for (int k = 0; k < 3; ++k) {
        const __m256 normalized = _mm256_add_ps(_mm256_mul_ps(value[k], s.scale[k]), s.offset[k]);
        _mm256_storeu_ps(dst + 8 * k, normalized);
    }
}

template <int Bpp, bool ZeroBorder>
void crop_rows(const ImageView& src, const CropNormalize& p, const Setup& s, float* out) {
    const int width = p.out_width, blocks_end = width / kLanes * kLanes;
    const std::ptrdiff_t row_floats = static_cast<std::ptrdiff_t>(width) * 3;
    const __m256 step_x = _mm256_set1_ps(static_cast<float>(p.transform.m[0]));
    const __m256 step_y = _mm256_set1_ps(static_cast<float>(p.transform.m[3]));
    const __m256i iota = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);

    for (int band = 0; band < p.out_height; band += kBandRows) {
        const int rows = p.out_height - band < kBandRows ? p.out_height - band : kBandRows;
        float origin_x[kBandRows], origin_y[kBandRows];
        for (int r = 0; r < rows; ++r) {
            const RowOrigin o = row_origin(p.transform, band + r);
            origin_x[r] = o.x;
            origin_y[r] = o.y;
        }
        for (int x = 0; x < blocks_end; x += kLanes) {
            // sx = origin.x + step_x * x, as the reference; the products are shared by the band.
            const __m256 fx = _mm256_cvtepi32_ps(_mm256_add_epi32(_mm256_set1_epi32(x), iota));
            const __m256 dx = _mm256_mul_ps(step_x, fx), dy = _mm256_mul_ps(step_y, fx);
            float* dst = out + band * row_floats + static_cast<std::ptrdiff_t>(x) * 3;
            for (int r = 0; r < rows; ++r, dst += row_floats) {
                crop_block<Bpp, ZeroBorder>(s, _mm256_add_ps(_mm256_set1_ps(origin_x[r]), dx),
                                            _mm256_add_ps(_mm256_set1_ps(origin_y[r]), dy), dst);
            }
        }
        if (blocks_end < width) {
            for (int r = 0; r < rows; ++r)
                crop_normalize_span_scalar(src, p, band + r, blocks_end, width,
                                           out + (band + r) * row_floats);
        }
    }
}

}  // namespace

void crop_normalize_avx2(const ImageView& src, const CropNormalize& p, float* out) {
    // Every gather reads a whole 4-byte word inside the image; a smaller image has none.
    const std::ptrdiff_t end = end_offset(src);
    if (end - lowest_offset(src) < 4) return crop_normalize_scalar(src, p, out);

    const int bpp = bytes_per_pixel(src.format);
    const ChannelMap map = rgb_channel_map(src.format);
    const int channel[3] = {map.r, map.g, map.b};
    // A one-row image never steps by its stride, which validate() leaves unchecked.
    const int stride = src.height > 1 ? static_cast<int>(src.stride) : 0;
    // The interior path's wide loads (4 bytes for gray, 8 for colour) starting at x0 end inside
    // the row while x0 <= width - wide_pixels.
    const int wide_pixels = bpp == 1 ? 4 : bpp == 3 ? 3 : 2;

    Setup s;
    s.top = src.data;
    s.bottom = src.data + stride;
    s.last_x = _mm256_set1_epi32(src.width - 1);
    s.last_y = _mm256_set1_epi32(src.height - 1);
    s.stride = _mm256_set1_epi32(stride);
    s.last_word = _mm256_set1_epi32(static_cast<int>(end - 4));
    s.interior = src.width >= wide_pixels && src.height >= 2;
    s.next_block = static_cast<std::ptrdiff_t>(std::lround(kLanes * p.transform.m[3])) * stride +
                   static_cast<std::ptrdiff_t>(std::lround(kLanes * p.transform.m[0])) * bpp;
    s.stride_bytes = stride;
    s.wide_last_x = _mm256_set1_epi32(src.width - wide_pixels);
    s.last_y0 = _mm256_set1_epi32(src.height - 2);
    for (int k = 0; k < 3; ++k) {
        // Slot j of output vector k holds channel (8k + j) % 3 of pixel kSlotPixel[k][j]. A
        // pshufb index of -128 writes a zero byte, so each selected byte is zero-extended.
        alignas(32) std::int8_t left[32], right[32], word[32];
        alignas(32) float scale[8], offset[8];
        for (int j = 0; j < 8; ++j) {
            const int c = (8 * k + j) % 3, half = j / 4;
            const int pair_slot = kSlotPixel[k][j] - kHalfPixel[k][half];  // 64-bit slot in half
            for (int b = 0; b < 4; ++b) left[4 * j + b] = right[4 * j + b] = word[4 * j + b] = -128;
            left[4 * j] = static_cast<std::int8_t>(8 * pair_slot + channel[c]);
            right[4 * j] = static_cast<std::int8_t>(8 * pair_slot + bpp + channel[c]);
            word[4 * j] = static_cast<std::int8_t>(4 * (j % 4) + channel[c]);
            scale[j] = p.scale[c];
            offset[j] = p.offset[c];
        }
        s.spread[k] = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(kSlotPixel[k]));
        s.pair_pick[k][0] = _mm256_load_si256(reinterpret_cast<const __m256i*>(left));
        s.pair_pick[k][1] = _mm256_load_si256(reinterpret_cast<const __m256i*>(right));
        s.word_pick[k] = _mm256_load_si256(reinterpret_cast<const __m256i*>(word));
        s.scale[k] = _mm256_load_ps(scale);
        s.offset[k] = _mm256_load_ps(offset);
        s.outside[k] = _mm256_add_ps(_mm256_mul_ps(_mm256_setzero_ps(), s.scale[k]), s.offset[k]);
    }
    with_layout(src.format, p.border, [&](auto bpp, auto zero_border) {
        crop_rows<decltype(bpp)::value, decltype(zero_border)::value>(src, p, s, out);
    });
}

}  // namespace facekit::kernels
