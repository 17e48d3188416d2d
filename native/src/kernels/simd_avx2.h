// AVX2 helpers of the beauty engine's pixel kernels, shared by the <op>_avx2.cpp files (<op>.cpp
// holds each reference). Every output equals the scalar reference's: integer maths is exact (where
// the reference's order is changed, the result is the same integer, as the comments show), float
// maths repeats the reference's operations in its order with separate mul/add (the file is built
// with -mavx2 and -ffp-contract=off, so nothing is fused), and conversions round or truncate as the
// scalar casts do. Tails shorter than a vector, and inputs a block cannot handle, go to the scalar
// functions, which are element-wise (box_sum excepted: it runs entirely here).
//
// No std:: templates are instantiated in the AVX2 files (std::min, std::clamp...): an out-of-line
// copy compiled with AVX2 could be picked by the linker for the scalar files too. Everything here
// is inline or a template in an anonymous namespace: each file compiles its own copy.
#pragma once
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

}  // namespace
}  // namespace facekit::kernels
