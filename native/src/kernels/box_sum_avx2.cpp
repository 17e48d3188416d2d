// AVX2 path of box sums over a (2r+1)^2 window, borders replicated (box_sum.cpp is the reference;
// simd_avx2.h says how every path stays bit-identical to it).
#include "kernels/simd_avx2.h"

namespace facekit::kernels {

namespace {

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

}  // namespace facekit::kernels
