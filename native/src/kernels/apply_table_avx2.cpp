// AVX2 path of a 256-entry tone curve (apply_table.cpp is the reference; simd_avx2.h says how every
// path stays bit-identical to it).
#include "kernels/simd_avx2.h"

namespace facekit::kernels {

namespace {

// out = table[in] with vpshufb, which looks up 16 entries by the low nibble and gives 0 where the
// index byte's top bit is set. Rows T_h = table[16h .. 16h + 15]. For the lower half (in < 128,
// h = in >> 4 in 0..7) the indices x_k = in - 16k (k = 0..7, signed saturating) keep the low
// nibble and have the top bit clear exactly for k <= h, so XOR over k of
// pshufb(T_k ^ T_(k-1), x_k) telescopes to T_h[in & 15]; bytes from 128 up are negative as int8
// and stay so (the subtraction saturates at -128), adding nothing. The upper half is the same on
// in ^ 0x80 with rows 8..15.


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

}  // namespace facekit::kernels
