// AVX2 paths of the beauty engine's pixel kernels (beauty_kernels.cpp is the reference). Every
// output equals the scalar reference's: integer maths is exact (where the reference's order is
// changed, the result is the same integer, as the comments show), float maths repeats the
// reference's operations in its order with separate mul/add (the file is built with -mavx2 and
// -ffp-contract=off, so nothing is fused), and conversions round or truncate as the scalar casts
// do. Tails shorter than a vector, and inputs a block cannot handle, go to the scalar functions,
// which are element-wise (box_sum excepted: it runs entirely here).
//
// No std:: templates are instantiated in this file (std::min, std::clamp...): an out-of-line copy
// compiled with AVX2 could be picked by the linker for the scalar files too.
#include <immintrin.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <type_traits>

#include "kernels/beauty_kernels.h"
#include "kernels/kernels.h"

namespace facekit::kernels {
namespace {

inline int min_int(int a, int b) { return a < b ? a : b; }
inline int max_int(int a, int b) { return a < b ? b : a; }

inline __m128i load128(const void* p) { return _mm_loadu_si128(static_cast<const __m128i*>(p)); }
inline __m256i load256(const void* p) {
    return _mm256_loadu_si256(static_cast<const __m256i*>(p));
}
// The 16 int16 lanes of v saturated to uint8, and the 8 int32 lanes saturated to uint16, in order.
inline __m128i pack_u8(__m256i v16) {
    return _mm_packus_epi16(_mm256_castsi256_si128(v16), _mm256_extracti128_si256(v16, 1));
}
inline __m128i pack_u16(__m256i v32) {
    return _mm_packus_epi32(_mm256_castsi256_si128(v32), _mm256_extracti128_si256(v32, 1));
}

// static_cast<float>(uint32), round to nearest even for every uint32: both 16-bit halves convert
// exactly, hi * 65536 is exact, so the one add rounds the exact value once.
inline __m256 u32_to_float(__m256i v) {
    const __m256 hi = _mm256_cvtepi32_ps(_mm256_srli_epi32(v, 16));
    const __m256 lo = _mm256_cvtepi32_ps(_mm256_blend_epi16(v, _mm256_setzero_si256(), 0xAA));
    return _mm256_add_ps(_mm256_mul_ps(hi, _mm256_set1_ps(65536.0f)), lo);
}

// static_cast<std::uint32_t>(float) for values in [0, 2^32): truncation. Values from 2^31 up
// (exactly representable offsets from 2^31) convert after subtracting 2^31 and get the bit back.
inline __m256i float_to_u32(__m256 x) {
    const __m256 two31 = _mm256_set1_ps(2147483648.0f);
    const __m256 big = _mm256_cmp_ps(x, two31, _CMP_GE_OQ);
    const __m256i t = _mm256_cvttps_epi32(_mm256_sub_ps(x, _mm256_and_ps(big, two31)));
    return _mm256_xor_si256(t, _mm256_slli_epi32(_mm256_castps_si256(big), 31));
}

// std::max(v, lo) is (v < lo) ? lo : v, which is max_ps(lo, v) with this operand order (max_ps
// returns its second operand unless the first is greater: same for NaN and signed zeros).
// std::clamp(v, lo, hi) is (v < lo) ? lo : (hi < v) ? hi : v = min_ps(hi, max_ps(lo, v)).
inline __m256 std_max(__m256 v, __m256 lo) { return _mm256_max_ps(lo, v); }
inline __m256 std_clamp(__m256 v, __m256 lo, __m256 hi) {
    return _mm256_min_ps(hi, _mm256_max_ps(lo, v));
}

// ---- box_sum --------------------------------------------------------------------------------

// Inclusive prefix sum of the 8 lanes (modulo 2^32, like every sum here).
inline __m256i prefix_sum8(__m256i d) {
    d = _mm256_add_epi32(d, _mm256_slli_si256(d, 4));
    d = _mm256_add_epi32(d, _mm256_slli_si256(d, 8));
    const __m256i low_total = _mm256_permutevar8x32_epi32(d, _mm256_set1_epi32(3));
    return _mm256_add_epi32(d, _mm256_blend_epi32(_mm256_setzero_si256(), low_total, 0xF0));
}

// out[x] = sum of padded[x .. x + 2r] for x < w: out[0] directly, then the running difference
// out[x] = out[x - 1] + padded[x + 2r] - padded[x - 1], 8 at a time as a prefix sum of the
// differences plus the carried out[x - 1].
void box_row(const std::uint32_t* padded, std::size_t w, int r, std::uint32_t* out) {
    const std::size_t span = 2 * static_cast<std::size_t>(r);
    std::uint32_t s = 0;
    for (std::size_t i = 0; i <= span; ++i) s += padded[i];
    out[0] = s;
    std::size_t x = 1;
    if (x + 8 <= w) {
        __m256i carry = _mm256_set1_epi32(static_cast<int>(s));
        const __m256i last = _mm256_set1_epi32(7);
        for (; x + 8 <= w; x += 8) {
            const __m256i d =
                prefix_sum8(_mm256_sub_epi32(load256(padded + x + span), load256(padded + x - 1)));
            _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + x), _mm256_add_epi32(d, carry));
            carry = _mm256_add_epi32(carry, _mm256_permutevar8x32_epi32(d, last));
        }
        s = static_cast<std::uint32_t>(_mm_cvtsi128_si32(_mm256_castsi256_si128(carry)));
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
    for (; x + 8 <= w; x += 8) {
        __m256i c = _mm256_add_epi32(load256(column + x), load256(entering + x));
        if (leaving != nullptr) c = _mm256_sub_epi32(c, load256(leaving + x));
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(column + x), c);
    }
    for (; x < w; ++x) column[x] = column[x] + entering[x] - (leaving ? leaving[x] : 0u);
}

// ---- guided_output --------------------------------------------------------------------------

// Guide bytes of 8 elements `stride` apart, as int32 lanes. Stride 3 and 4 read the whole span
// up to the next element (the caller guarantees one follows); others read byte by byte.
template <int Stride>
inline __m256i load_guide8(const std::uint8_t* g, int stride) {
    if constexpr (Stride == 1) {
        return _mm256_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(g)));
    } else if constexpr (Stride == 3) {
        const __m128i a = load128(g);                                                 // 0..5
        const __m128i b = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(g + 16));  // 6, 7
        const __m128i pa =
            _mm_setr_epi8(0, 3, 6, 9, 12, 15, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1);
        const __m128i pb =
            _mm_setr_epi8(-1, -1, -1, -1, -1, -1, 2, 5, -1, -1, -1, -1, -1, -1, -1, -1);
        return _mm256_cvtepu8_epi32(
            _mm_or_si128(_mm_shuffle_epi8(a, pa), _mm_shuffle_epi8(b, pb)));
    } else if constexpr (Stride == 4) {
        return _mm256_and_si256(load256(g), _mm256_set1_epi32(0xFF));
    } else {
        std::uint64_t bytes = 0;
        for (int j = 0; j < 8; ++j) {
            const std::uint64_t b = g[static_cast<std::ptrdiff_t>(j) * stride];
            bytes |= b << (8 * j);
        }
        return _mm256_cvtepu8_epi32(_mm_cvtsi64_si128(static_cast<long long>(bytes)));
    }
}

// Returns how many leading elements it wrote (a multiple of 8); the caller does the rest.
template <int Stride, bool ContiguousOut>
std::size_t guided_output_blocks(const std::uint32_t* sum_a, const std::uint32_t* sum_b,
                                 const std::uint8_t* guide, int pixel_stride, std::size_t count,
                                 float inv_n, std::uint8_t* out, int out_stride) {
    const float scale_a = inv_n * (1.0f / 4096.0f);
    const float scale_b = inv_n * (1.0f / 16.0f);
    const __m256 va = _mm256_set1_ps(scale_a), vb = _mm256_set1_ps(scale_b);
    const __m256 zero = _mm256_setzero_ps(), top = _mm256_set1_ps(255.0f);
    const __m256 half = _mm256_set1_ps(0.5f);
    // Wide guide loads read up to the next element's first byte: one must follow.
    const std::size_t reach = (Stride == 3 || Stride == 4) ? 9 : 8;
    std::size_t i = 0;
    for (; i + reach <= count; i += 8) {
        const __m256 a = _mm256_mul_ps(u32_to_float(load256(sum_a + i)), va);
        const __m256 b = _mm256_mul_ps(u32_to_float(load256(sum_b + i)), vb);
        const __m256 g = _mm256_cvtepi32_ps(
            load_guide8<Stride>(guide + i * static_cast<std::size_t>(pixel_stride), pixel_stride));
        const __m256 q = _mm256_add_ps(_mm256_mul_ps(a, g), b);
        const __m256i v = _mm256_cvttps_epi32(_mm256_add_ps(std_clamp(q, zero, top), half));
        const __m128i w16 = pack_u16(v);
        const __m128i b8 = _mm_packus_epi16(w16, w16);
        if constexpr (ContiguousOut) {
            _mm_storel_epi64(reinterpret_cast<__m128i*>(out + i), b8);
        } else {
            std::uint64_t bytes = static_cast<std::uint64_t>(_mm_cvtsi128_si64(b8));
            std::uint8_t* o = out + i * static_cast<std::size_t>(out_stride);
            for (int j = 0; j < 8; ++j, bytes >>= 8)
                o[static_cast<std::ptrdiff_t>(j) * out_stride] = static_cast<std::uint8_t>(bytes);
        }
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

// ---- blend ----------------------------------------------------------------------------------
// out = a + (((t - a) * w + 128) >> 8) = ((a << 8) + (t - a) * w + 128) >> 8: 256a is a multiple
// of 256, so adding it inside the floor shift changes nothing. The inner value is
// a * (256 - w) + t * w + 128, in [128, 65408] for w <= 255, so 16-bit lanes computing it
// modulo 2^16 (the product (t - a) * w may wrap) hold it exactly, and a logical shift ends it.

template <int Channels>
std::size_t blend_blocks(const std::uint8_t* in, const std::uint8_t* target,
                         const std::uint8_t* mask, int weight_q8, std::size_t count,
                         std::uint8_t* out) {
    // For each 16-byte group k of a 16-pixel block, the pixel each byte belongs to.
    __m128i spread[Channels];
    for (int k = 0; k < Channels; ++k) {
        alignas(16) std::uint8_t idx[16];
        for (int j = 0; j < 16; ++j) idx[j] = static_cast<std::uint8_t>((16 * k + j) / Channels);
        spread[k] = _mm_load_si128(reinterpret_cast<const __m128i*>(idx));
    }
    const __m256i weight = _mm256_set1_epi16(static_cast<short>(weight_q8));
    const __m256i round = _mm256_set1_epi16(128);
    std::size_t i = 0;
    for (; i + 16 <= count; i += 16) {
        // w = (mask * weight + 128) >> 8: mask * weight <= 65280, so 16 bits hold it exactly.
        const __m256i m = _mm256_cvtepu8_epi16(load128(mask + i));
        const __m256i w16 =
            _mm256_srli_epi16(_mm256_add_epi16(_mm256_mullo_epi16(m, weight), round), 8);
        const __m128i w8 = pack_u8(w16);
        const std::size_t at = i * Channels;
        for (int k = 0; k < Channels; ++k) {
            const std::size_t o = at + 16 * static_cast<std::size_t>(k);
            const __m256i a = _mm256_cvtepu8_epi16(load128(in + o));
            const __m256i t = _mm256_cvtepu8_epi16(load128(target + o));
            const __m256i w = _mm256_cvtepu8_epi16(_mm_shuffle_epi8(w8, spread[k]));
            const __m256i v = _mm256_srli_epi16(
                _mm256_add_epi16(_mm256_add_epi16(_mm256_slli_epi16(a, 8),
                                                  _mm256_mullo_epi16(_mm256_sub_epi16(t, a), w)),
                                 round),
                8);
            _mm_storeu_si128(reinterpret_cast<__m128i*>(out + o), pack_u8(v));
        }
    }
    return i;
}

// ---- remap_bilinear -------------------------------------------------------------------------
// 8 positions per block. Coordinates, fractions and weights are computed as the reference does,
// in float lanes. Neighbours: a block whose every x0 has 8 bytes of its row from x0 on
// (x0 * channels + 8 <= width * channels, so x1 = x0 + 1) reads one 8-byte word per position and
// source row, which holds the pixels at x0 and x1; other blocks (the last columns, tiny images)
// go to the scalar reference. The interpolation is exact integer maths:
//   top = p00 * (2048 - fx) + p01 * fx, bottom likewise (pmaddwd of byte pairs and weight pairs),
//   value = (top * (2048 - fy) + bottom * fy + 2^21) >> 22 (32-bit products, < 2^30).

template <int Channels>
std::size_t remap_blocks(const std::uint8_t* image, int width, int height, std::ptrdiff_t stride,
                         const float* positions, std::size_t count, std::uint8_t* out) {
    const int row_bytes = width * Channels;
    const __m256 zero = _mm256_setzero_ps();
    const __m256 max_x = _mm256_set1_ps(static_cast<float>(width - 1));
    const __m256 max_y = _mm256_set1_ps(static_cast<float>(height - 1));
    const __m256 scale = _mm256_set1_ps(2048.0f), half = _mm256_set1_ps(0.5f);
    const __m256i one = _mm256_set1_epi32(1), last_y = _mm256_set1_epi32(height - 1);
    const __m256i full = _mm256_set1_epi32(2048), round = _mm256_set1_epi32(1 << 21);
    const __m256i stride32 = _mm256_set1_epi32(static_cast<int>(stride));
    const __m256i interior_last = _mm256_set1_epi32(row_bytes - 8);

    // pshufb controls. Word vector A holds the 8-byte words of positions {0, 1 | 4, 5}, B those
    // of {2, 3 | 6, 7}; for channel c, A's control puts (p00, p01) of its two positions per lane
    // as 16-bit pairs into dwords 0 and 1, B's into dwords 2 and 3: OR gives lanes 0..7 in order.
    __m256i pick_a[Channels], pick_b[Channels];
    for (int c = 0; c < Channels; ++c) {
        alignas(32) std::int8_t a[32], b[32];
        for (int lane = 0; lane < 2; ++lane) {
            for (int j = 0; j < 16; ++j) a[16 * lane + j] = b[16 * lane + j] = -1;
            for (int q = 0; q < 2; ++q) {
                a[16 * lane + 4 * q] = static_cast<std::int8_t>(8 * q + c);
                a[16 * lane + 4 * q + 2] = static_cast<std::int8_t>(8 * q + Channels + c);
                b[16 * lane + 8 + 4 * q] = static_cast<std::int8_t>(8 * q + c);
                b[16 * lane + 8 + 4 * q + 2] = static_cast<std::int8_t>(8 * q + Channels + c);
            }
        }
        pick_a[c] = _mm256_load_si256(reinterpret_cast<const __m256i*>(a));
        pick_b[c] = _mm256_load_si256(reinterpret_cast<const __m256i*>(b));
    }
    // Interleaves the packed channel planes (bytes c * 4 + j of each lane: channel c of the
    // lane's position j) into pixels.
    __m256i interleave;
    {
        alignas(32) std::int8_t idx[32];
        for (int lane = 0; lane < 2; ++lane)
            for (int j = 0; j < 16; ++j) {
                const int pixel = j / Channels, c = j % Channels;
                idx[16 * lane + j] = pixel < 4 ? static_cast<std::int8_t>(4 * c + pixel) : -1;
            }
        interleave = _mm256_load_si256(reinterpret_cast<const __m256i*>(idx));
    }

    alignas(32) std::int32_t off0[8], off1[8];
    auto word = [&](std::int32_t off) {
        const auto* at = reinterpret_cast<const __m128i*>(image + off);
        return _mm256_broadcastq_epi64(_mm_loadl_epi64(at));
    };
    // Words at offsets[p0], [p1] | [p2], [p3] (as qwords 0, 1 | 2, 3).
    auto words = [&](const std::int32_t* o, int p0, int p1, int p2, int p3) {
        const __m256i lo = _mm256_blend_epi32(word(o[p0]), word(o[p1]), 0x0C);
        const __m256i hi = _mm256_blend_epi32(word(o[p2]), word(o[p3]), 0xC0);
        return _mm256_blend_epi32(lo, hi, 0xF0);
    };

    std::size_t i = 0;
    for (; i + 8 <= count; i += 8) {
        const float* p = positions + 2 * i;
        const __m256 u = _mm256_insertf128_ps(_mm256_castps128_ps256(_mm_loadu_ps(p)),
                                              _mm_loadu_ps(p + 8), 1);  // x0 y0 x1 y1 | x4 y4 x5 y5
        const __m256 v = _mm256_insertf128_ps(_mm256_castps128_ps256(_mm_loadu_ps(p + 4)),
                                              _mm_loadu_ps(p + 12), 1);  // x2 y2 x3 y3 | x6 ...
        const __m256 x = std_clamp(_mm256_shuffle_ps(u, v, _MM_SHUFFLE(2, 0, 2, 0)), zero, max_x);
        const __m256 y = std_clamp(_mm256_shuffle_ps(u, v, _MM_SHUFFLE(3, 1, 3, 1)), zero, max_y);
        const __m256i x0 = _mm256_cvttps_epi32(x), y0 = _mm256_cvttps_epi32(y);
        const __m256i fx = _mm256_cvttps_epi32(
            _mm256_add_ps(_mm256_mul_ps(_mm256_sub_ps(x, _mm256_cvtepi32_ps(x0)), scale), half));
        const __m256i fy = _mm256_cvttps_epi32(
            _mm256_add_ps(_mm256_mul_ps(_mm256_sub_ps(y, _mm256_cvtepi32_ps(y0)), scale), half));
        const __m256i y1 = _mm256_min_epi32(_mm256_add_epi32(y0, one), last_y);
        __m256i xb = x0;  // x0 * Channels
        if constexpr (Channels == 2) xb = _mm256_slli_epi32(x0, 1);
        if constexpr (Channels == 3) xb = _mm256_add_epi32(_mm256_slli_epi32(x0, 1), x0);
        if constexpr (Channels == 4) xb = _mm256_slli_epi32(x0, 2);
        if (_mm256_movemask_ps(_mm256_castsi256_ps(_mm256_cmpgt_epi32(xb, interior_last))) != 0) {
            remap_bilinear_scalar(image, width, height, stride, Channels, p, 8, out + i * Channels);
            continue;
        }
        _mm256_store_si256(reinterpret_cast<__m256i*>(off0),
                           _mm256_add_epi32(_mm256_mullo_epi32(y0, stride32), xb));
        _mm256_store_si256(reinterpret_cast<__m256i*>(off1),
                           _mm256_add_epi32(_mm256_mullo_epi32(y1, stride32), xb));
        const __m256i top_a = words(off0, 0, 1, 4, 5), top_b = words(off0, 2, 3, 6, 7);
        const __m256i bot_a = words(off1, 0, 1, 4, 5), bot_b = words(off1, 2, 3, 6, 7);
        // (2048 - fx, fx) as 16-bit pairs; fy weights as 32-bit lanes.
        const __m256i wx = _mm256_or_si256(_mm256_sub_epi32(full, fx), _mm256_slli_epi32(fx, 16));
        const __m256i wy0 = _mm256_sub_epi32(full, fy);
        __m256i value[4];
        for (int c = 0; c < 4; ++c) value[c] = _mm256_setzero_si256();
        for (int c = 0; c < Channels; ++c) {
            const __m256i top = _mm256_madd_epi16(
                _mm256_or_si256(_mm256_shuffle_epi8(top_a, pick_a[c]),
                                _mm256_shuffle_epi8(top_b, pick_b[c])),
                wx);
            const __m256i bottom = _mm256_madd_epi16(
                _mm256_or_si256(_mm256_shuffle_epi8(bot_a, pick_a[c]),
                                _mm256_shuffle_epi8(bot_b, pick_b[c])),
                wx);
            const __m256i sum = _mm256_add_epi32(_mm256_mullo_epi32(top, wy0),
                                                 _mm256_mullo_epi32(bottom, fy));
            value[c] = _mm256_srli_epi32(_mm256_add_epi32(sum, round), 22);
        }
        // Channel planes -> bytes [c * 4 + j] of each lane -> interleaved pixels.
        const __m256i planes = _mm256_packus_epi16(_mm256_packus_epi32(value[0], value[1]),
                                                   _mm256_packus_epi32(value[2], value[3]));
        const __m256i pixels = _mm256_shuffle_epi8(planes, interleave);
        std::uint8_t* o = out + i * Channels;
        if constexpr (Channels == 4) {
            _mm256_storeu_si256(reinterpret_cast<__m256i*>(o), pixels);
        } else if constexpr (Channels == 3) {
            const __m256i packed =
                _mm256_permutevar8x32_epi32(pixels, _mm256_setr_epi32(0, 1, 2, 4, 5, 6, 3, 7));
            _mm_storeu_si128(reinterpret_cast<__m128i*>(o), _mm256_castsi256_si128(packed));
            _mm_storel_epi64(reinterpret_cast<__m128i*>(o + 16),
                             _mm256_extracti128_si256(packed, 1));
        } else if constexpr (Channels == 2) {
            const __m256i packed = _mm256_permute4x64_epi64(pixels, _MM_SHUFFLE(3, 1, 2, 0));
            _mm_storeu_si128(reinterpret_cast<__m128i*>(o), _mm256_castsi256_si128(packed));
        } else {
            const __m256i packed =
                _mm256_permutevar8x32_epi32(pixels, _mm256_setr_epi32(0, 4, 1, 2, 3, 5, 6, 7));
            _mm_storel_epi64(reinterpret_cast<__m128i*>(o), _mm256_castsi256_si128(packed));
        }
    }
    return i;
}

}  // namespace

void box_sum_avx2(const std::uint32_t* src, int width, int height, int r, std::uint32_t* dst,
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

void guided_coefficients_avx2(const std::uint32_t* sum_i, const std::uint32_t* sum_ii,
                              std::size_t count, float inv_n, float eps, std::uint32_t* a_q,
                              std::uint32_t* b_q) {
    const __m256 vinv = _mm256_set1_ps(inv_n), veps = _mm256_set1_ps(eps);
    const __m256 zero = _mm256_setzero_ps(), half = _mm256_set1_ps(0.5f);
    const __m256 a_scale = _mm256_set1_ps(4096.0f), b_scale = _mm256_set1_ps(16.0f);
    std::size_t i = 0;
    for (; i + 8 <= count; i += 8) {
        const __m256 mean = _mm256_mul_ps(u32_to_float(load256(sum_i + i)), vinv);
        const __m256 corr = _mm256_mul_ps(u32_to_float(load256(sum_ii + i)), vinv);
        const __m256 var = std_max(_mm256_sub_ps(corr, _mm256_mul_ps(mean, mean)), zero);
        const __m256 a = _mm256_div_ps(var, _mm256_add_ps(var, veps));
        const __m256 b = _mm256_sub_ps(mean, _mm256_mul_ps(a, mean));
        const __m256 a_out = _mm256_add_ps(_mm256_mul_ps(a, a_scale), half);
        const __m256 b_out = _mm256_add_ps(_mm256_mul_ps(std_max(b, zero), b_scale), half);
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(a_q + i), float_to_u32(a_out));
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(b_q + i), float_to_u32(b_out));
    }
    if (i < count)
        guided_coefficients_scalar(sum_i + i, sum_ii + i, count - i, inv_n, eps, a_q + i, b_q + i);
}

void guided_output_avx2(const std::uint32_t* sum_a, const std::uint32_t* sum_b,
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

void blend_avx2(const std::uint8_t* in, const std::uint8_t* target, const std::uint8_t* mask,
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

void remap_bilinear_avx2(const std::uint8_t* image, int width, int height, std::ptrdiff_t stride,
                         int channels, const float* positions, std::size_t count,
                         std::uint8_t* out) {
    std::size_t done = 0;
    // Byte offsets y * stride + x * channels must fit int32 lanes.
    const std::ptrdiff_t abs_stride = stride < 0 ? -stride : stride;
    const bool offsets_fit = static_cast<std::ptrdiff_t>(height - 1) * abs_stride +
                                 static_cast<std::ptrdiff_t>(width) * channels <=
                             0x7FFFFFFF;
    if (offsets_fit) {
        done = with_channels(
            channels,
            [&](auto c) {
                return remap_blocks<decltype(c)::value>(image, width, height, stride, positions,
                                                        count, out);
            },
            [] { return std::size_t{0}; });
    }
    if (done < count)
        remap_bilinear_scalar(image, width, height, stride, channels, positions + 2 * done,
                              count - done, out + done * static_cast<std::size_t>(channels));
}

// ---- apply_table ----------------------------------------------------------------------------
// out = table[in] with vpshufb, which looks up 16 entries by the low nibble and gives 0 where the
// index byte's top bit is set. Rows T_h = table[16h .. 16h + 15]. For the lower half (in < 128,
// h = in >> 4 in 0..7) the indices x_k = in - 16k (k = 0..7, signed saturating) keep the low
// nibble and have the top bit clear exactly for k <= h, so XOR over k of
// pshufb(T_k ^ T_(k-1), x_k) telescopes to T_h[in & 15]; bytes from 128 up are negative as int8
// and stay so (the subtraction saturates at -128), adding nothing. The upper half is the same on
// in ^ 0x80 with rows 8..15.

namespace {

struct TableRows {
    __m256i lower[8], upper[8];  // row differences, the same 16 bytes in both 128-bit lanes
    explicit TableRows(const std::uint8_t* table) {
        __m128i previous_lower = _mm_setzero_si128(), previous_upper = _mm_setzero_si128();
        for (int k = 0; k < 8; ++k) {
            const __m128i lo = load128(table + 16 * k), hi = load128(table + 128 + 16 * k);
            lower[k] = _mm256_broadcastsi128_si256(_mm_xor_si128(lo, previous_lower));
            upper[k] = _mm256_broadcastsi128_si256(_mm_xor_si128(hi, previous_upper));
            previous_lower = lo;
            previous_upper = hi;
        }
    }
    __m256i lookup(__m256i x) const {
        const __m256i step = _mm256_set1_epi8(16);
        __m256i y = _mm256_xor_si256(x, _mm256_set1_epi8(static_cast<char>(0x80)));
        __m256i r = _mm256_xor_si256(_mm256_shuffle_epi8(lower[0], x),
                                     _mm256_shuffle_epi8(upper[0], y));
        for (int k = 1; k < 8; ++k) {
            x = _mm256_subs_epi8(x, step);
            y = _mm256_subs_epi8(y, step);
            r = _mm256_xor_si256(r, _mm256_xor_si256(_mm256_shuffle_epi8(lower[k], x),
                                                     _mm256_shuffle_epi8(upper[k], y)));
        }
        return r;
    }
};

// ---- lut3d ----------------------------------------------------------------------------------
// 8 pixels per block; 16-bit lanes for the positions, 32-bit lanes (one pixel each) after.
//   Position: q = v * cells (<= 65025), p = (256q + 127) / 255 = q + (q + 127) / 255, where
//   y / 255 = (y * 0x8081) >> 23 exactly for y < 66052 (the error y * 127 / (255 * 2^23) stays
//   under 1/255); index = min(p >> 8, cells - 1), f = p - 256 index, as the reference.
//   Corners: the 8 entries of a pixel are 4 pairs (dr = 0, 1) of 6 bytes, one per (dg, db); each
//   pair is read as one 8-byte word with scalar-addressed loads (no vpgatherdd: slow here). The
//   last pair of the LUT ends at its last byte, so the (1, 1) pair (the only one that can be it)
//   is read from 2 bytes before it (never before the LUT: that pair starts at >= 3 size + 3 size^2
//   - 2 > 0) and picked 2 bytes further on.
//   Sum, exact in integers (the reference's sum < 255 * 2^24 + 2^23 < 2^32, so any grouping and
//   any wrapping modulo 2^32 give it):
//     S1 = (256 - fr) e0 + fr e1                 (pmaddwd of (e0, e1), (256 - fr, fr): <= 65280)
//     S2 = (256 - fg) S1(g0) + fg S1(g1) - 2^23  (pmaddwd of the pair (S1 - 32768) as int16;
//                                                 the weights add up to 256: the offset is 2^23)
//     S  = 256 S2(b0) + fb (S2(b1) - S2(b0)) = (M0 << 8) + 2^31 + fb (M1 - M0) with M = S2 - 2^23
//   and out = (S + 2^23) >> 24.
//   Lane layouts: the words of pixels {0, 1 | 4, 5} (vector A) and {2, 3 | 6, 7} (vector B) give,
//   by pshufb, channels 0 and 1 of A's pixels (layout L1: pixels 0 1 0 1 | 4 5 4 5, channels
//   0 0 1 1), of B's (L2: 2 3 2 3 | 6 7 6 7) and channel 2 of all (L3: 0 1 2 3 | 4 5 6 7, from
//   both); the weights are permuted into the same three layouts.

// pshufb control picking the (e0, e1) byte pairs (zero-extended to 16 bits, one pair a dword)
// from 8-byte words at `shift` in the 2 pixel words of each 128-bit lane. which = 0: channels 0
// and 1 of both pixels (dword d: pixel d & 1, channel d >> 1); 1: channel 2 of both pixels into
// dwords 0, 1; 2: the same into dwords 2, 3.
__m256i lut_pick(int which, int shift) {
    alignas(32) std::int8_t idx[32];
    for (int lane = 0; lane < 2; ++lane)
        for (int d = 0; d < 4; ++d) {
            int pixel = -1, channel = 0;
            if (which == 0) {
                pixel = d & 1;
                channel = d >> 1;
            } else if ((which == 1 && d < 2) || (which == 2 && d >= 2)) {
                pixel = d & 1;
                channel = 2;
            }
            std::int8_t* o = idx + 16 * lane + 4 * d;
            o[1] = o[3] = -1;
            o[0] = pixel < 0 ? -1 : static_cast<std::int8_t>(8 * pixel + shift + channel);
            o[2] = pixel < 0 ? -1 : static_cast<std::int8_t>(8 * pixel + shift + 3 + channel);
        }
    return _mm256_load_si256(reinterpret_cast<const __m256i*>(idx));
}

// Index and weight of 16 channel values (16-bit lanes), as the reference computes them.
inline void lut_positions(__m256i v, __m256i cells, __m256i last, __m256i& index, __m256i& f) {
    const __m256i q = _mm256_mullo_epi16(v, cells);
    const __m256i y = _mm256_add_epi16(q, _mm256_set1_epi16(127));
    const __m256i p = _mm256_add_epi16(
        q, _mm256_srli_epi16(_mm256_mulhi_epu16(y, _mm256_set1_epi16(static_cast<short>(0x8081))),
                             7));
    index = _mm256_min_epu16(_mm256_srli_epi16(p, 8), last);
    f = _mm256_sub_epi16(p, _mm256_slli_epi16(index, 8));
}

// (256 - f) | f << 16 in 32-bit lanes: the pmaddwd weight pair.
inline __m256i weight_pair(__m256i f32) {
    return _mm256_or_si256(_mm256_sub_epi32(_mm256_set1_epi32(256), f32),
                           _mm256_slli_epi32(f32, 16));
}

// Returns how many leading pixels it wrote (a multiple of 8); 2 <= size <= 256.
std::size_t lut3d_blocks(const std::uint8_t* in, std::size_t count, const std::uint8_t* lut,
                         int size, std::uint8_t* out) {
    const __m256i cells = _mm256_set1_epi16(static_cast<short>(size - 1));
    const __m256i last = _mm256_set1_epi16(static_cast<short>(size - 2));
    const std::int32_t row3 = 3 * size, plane3 = 3 * size * size;
    const __m256i vrow3 = _mm256_set1_epi32(row3), vplane3 = _mm256_set1_epi32(plane3);
    // Word offsets of the pairs (dg, db) = (0, 0), (1, 0), (0, 1), (1, 1) from the cell's base.
    const std::ptrdiff_t delta[4] = {0, row3, plane3, row3 + plane3 - 2};
    const __m256i pick01[2] = {lut_pick(0, 0), lut_pick(0, 2)};
    const __m256i pick2a[2] = {lut_pick(1, 0), lut_pick(1, 2)};
    const __m256i pick2b[2] = {lut_pick(2, 0), lut_pick(2, 2)};
    const __m256i sign_flip = _mm256_set1_epi32(static_cast<int>(0x80008000u));
    const __m256i round = _mm256_set1_epi32(static_cast<int>(0x80800000u));  // 2^31 + 2^23
    // Deinterleaving 24 bytes (16 + 8) into r0..r7 g0..g7 and b0..b7.
    const __m128i rg_lo = _mm_setr_epi8(0, 3, 6, 9, 12, 15, -1, -1, 1, 4, 7, 10, 13, -1, -1, -1);
    const __m128i rg_hi = _mm_setr_epi8(-1, -1, -1, -1, -1, -1, 2, 5, -1, -1, -1, -1, -1, 0, 3, 6);
    const __m128i b_lo = _mm_setr_epi8(2, 5, 8, 11, 14, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1);
    const __m128i b_hi = _mm_setr_epi8(-1, -1, -1, -1, -1, 1, 4, 7, -1, -1, -1, -1, -1, -1, -1, -1);
    // Bytes [px0c0 px1c0 px0c1 px1c1 px2c0 px3c0 px2c1 px3c1 px0c2 px1c2 px2c2 px3c2] of a lane
    // into RGB order.
    const __m256i to_rgb = _mm256_setr_epi8(0, 2, 8, 1, 3, 9, 4, 6, 10, 5, 7, 11, -1, -1, -1, -1,
                                            0, 2, 8, 1, 3, 9, 4, 6, 10, 5, 7, 11, -1, -1, -1, -1);
    const __m256i compact = _mm256_setr_epi32(0, 1, 2, 4, 5, 6, 3, 7);

    alignas(32) std::int32_t base[8];
    const std::uint8_t* cell_at[8];
    auto word = [&](const std::uint8_t* at) {
        return _mm256_broadcastq_epi64(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(at)));
    };
    // Words at cell p0 + d, p1 + d | p2 + d, p3 + d (qwords 0, 1 | 2, 3).
    auto words = [&](std::ptrdiff_t d, int p0, int p1, int p2, int p3) {
        const __m256i lo =
            _mm256_blend_epi32(word(cell_at[p0] + d), word(cell_at[p1] + d), 0x0C);
        const __m256i hi =
            _mm256_blend_epi32(word(cell_at[p2] + d), word(cell_at[p3] + d), 0xC0);
        return _mm256_blend_epi32(lo, hi, 0xF0);
    };

    std::size_t i = 0;
    for (; i + 8 <= count; i += 8) {
        const std::uint8_t* src = in + 3 * i;
        const __m128i lo = load128(src);
        const __m128i hi = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(src + 16));
        const __m128i rg = _mm_or_si128(_mm_shuffle_epi8(lo, rg_lo), _mm_shuffle_epi8(hi, rg_hi));
        const __m128i b = _mm_or_si128(_mm_shuffle_epi8(lo, b_lo), _mm_shuffle_epi8(hi, b_hi));
        __m256i index_rg, f_rg, index_b, f_b;
        lut_positions(_mm256_cvtepu8_epi16(rg), cells, last, index_rg, f_rg);
        lut_positions(_mm256_cvtepu8_epi16(b), cells, last, index_b, f_b);
        const __m256i ir = _mm256_cvtepu16_epi32(_mm256_castsi256_si128(index_rg));
        const __m256i ig = _mm256_cvtepu16_epi32(_mm256_extracti128_si256(index_rg, 1));
        const __m256i ib = _mm256_cvtepu16_epi32(_mm256_castsi256_si128(index_b));
        const __m256i cell = _mm256_add_epi32(
            _mm256_add_epi32(_mm256_add_epi32(ir, _mm256_slli_epi32(ir, 1)),
                             _mm256_mullo_epi32(ig, vrow3)),
            _mm256_mullo_epi32(ib, vplane3));
        _mm256_store_si256(reinterpret_cast<__m256i*>(base), cell);
        for (int j = 0; j < 8; ++j) cell_at[j] = lut + base[j];
        // Weights in layout L3 (natural order), then L1 and L2.
        const __m256i wr3 = weight_pair(_mm256_cvtepu16_epi32(_mm256_castsi256_si128(f_rg)));
        const __m256i wg3 = weight_pair(_mm256_cvtepu16_epi32(_mm256_extracti128_si256(f_rg, 1)));
        const __m256i fb3 = _mm256_cvtepu16_epi32(_mm256_castsi256_si128(f_b));
        const __m256i wr1 = _mm256_shuffle_epi32(wr3, _MM_SHUFFLE(1, 0, 1, 0));
        const __m256i wr2 = _mm256_shuffle_epi32(wr3, _MM_SHUFFLE(3, 2, 3, 2));
        // Stage 1 for the 4 pairs, in the 3 layouts.
        __m256i s1[4][3];
        for (int k = 0; k < 4; ++k) {
            const int shift = k == 3 ? 1 : 0;
            const __m256i a = words(delta[k], 0, 1, 4, 5), bw = words(delta[k], 2, 3, 6, 7);
            s1[k][0] = _mm256_madd_epi16(_mm256_shuffle_epi8(a, pick01[shift]), wr1);
            s1[k][1] = _mm256_madd_epi16(_mm256_shuffle_epi8(bw, pick01[shift]), wr2);
            s1[k][2] = _mm256_madd_epi16(_mm256_or_si256(_mm256_shuffle_epi8(a, pick2a[shift]),
                                                         _mm256_shuffle_epi8(bw, pick2b[shift])),
                                         wr3);
        }
        const __m256i wg[3] = {_mm256_shuffle_epi32(wg3, _MM_SHUFFLE(1, 0, 1, 0)),
                               _mm256_shuffle_epi32(wg3, _MM_SHUFFLE(3, 2, 3, 2)), wg3};
        const __m256i fb[3] = {_mm256_shuffle_epi32(fb3, _MM_SHUFFLE(1, 0, 1, 0)),
                               _mm256_shuffle_epi32(fb3, _MM_SHUFFLE(3, 2, 3, 2)), fb3};
        __m256i result[3];
        for (int l = 0; l < 3; ++l) {
            // Stages 2 and 3: pairs k = 0, 1 are db = 0, pairs 2, 3 are db = 1.
            const __m256i m0 = _mm256_madd_epi16(
                _mm256_xor_si256(_mm256_or_si256(s1[0][l], _mm256_slli_epi32(s1[1][l], 16)),
                                 sign_flip),
                wg[l]);
            const __m256i m1 = _mm256_madd_epi16(
                _mm256_xor_si256(_mm256_or_si256(s1[2][l], _mm256_slli_epi32(s1[3][l], 16)),
                                 sign_flip),
                wg[l]);
            const __m256i s = _mm256_add_epi32(
                _mm256_slli_epi32(m0, 8), _mm256_mullo_epi32(fb[l], _mm256_sub_epi32(m1, m0)));
            result[l] = _mm256_srli_epi32(_mm256_add_epi32(s, round), 24);
        }
        const __m256i bytes = _mm256_packus_epi16(_mm256_packus_epi32(result[0], result[1]),
                                                  _mm256_packus_epi32(result[2], result[2]));
        const __m256i rgb =
            _mm256_permutevar8x32_epi32(_mm256_shuffle_epi8(bytes, to_rgb), compact);
        std::uint8_t* dst = out + 3 * i;
        _mm_storeu_si128(reinterpret_cast<__m128i*>(dst), _mm256_castsi256_si128(rgb));
        _mm_storel_epi64(reinterpret_cast<__m128i*>(dst + 16), _mm256_extracti128_si256(rgb, 1));
    }
    return i;
}

}  // namespace

void apply_table_avx2(const std::uint8_t* in, std::size_t count, const std::uint8_t table[256],
                      std::uint8_t* out) {
    std::size_t i = 0;
    if (count >= 32) {
        const TableRows rows(table);
        // Two vectors per step for independent chains; each block is read before it is written,
        // so in == out works.
        for (; i + 64 <= count; i += 64) {
            const __m256i r0 = rows.lookup(load256(in + i));
            const __m256i r1 = rows.lookup(load256(in + i + 32));
            _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + i), r0);
            _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + i + 32), r1);
        }
        for (; i + 32 <= count; i += 32)
            _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + i), rows.lookup(load256(in + i)));
    }
    if (i < count) apply_table_scalar(in + i, count - i, table, out + i);
}

void lut3d_avx2(const std::uint8_t* in, std::size_t count, const std::uint8_t* lut, int size,
                std::uint8_t* out) {
    // The 16-bit positions need size - 1 <= 257; int32 offsets need far less. Other sizes (not
    // used by the engine) and tails run the reference.
    const std::size_t done =
        (size >= 2 && size <= 256) ? lut3d_blocks(in, count, lut, size, out) : 0;
    if (done < count) lut3d_scalar(in + 3 * done, count - done, lut, size, out + 3 * done);
}

}  // namespace facekit::kernels
