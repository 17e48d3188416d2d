// AVX2 path of bilinear sampling at arbitrary positions (the shape warp) (remap_bilinear.cpp is the
// reference; simd_avx2.h says how every path stays bit-identical to it).
#include "kernels/simd_avx2.h"

namespace facekit::kernels {

namespace {

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

}  // namespace facekit::kernels
