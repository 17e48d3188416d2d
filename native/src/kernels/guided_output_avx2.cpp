// AVX2 path of the guided filter's output (guided_output.cpp is the reference; simd_avx2.h says how
// every path stays bit-identical to it).
#include "kernels/simd_avx2.h"

namespace facekit::kernels {

namespace {

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

}  // namespace

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

}  // namespace facekit::kernels
