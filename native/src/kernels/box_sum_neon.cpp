// NEON (aarch64) path of box sums over a (2r+1)^2 window, borders replicated (box_sum.cpp is the
// reference; simd_neon.h says how every path stays bit-identical to it).
#include "kernels/simd_neon.h"

namespace facekit::kernels {

namespace {

// Inclusive prefix sum of the 4 lanes (modulo 2^32, like every sum here).
inline uint32x4_t prefix_sum4(uint32x4_t d) {
    const uint32x4_t zero = vdupq_n_u32(0);
    d = vaddq_u32(d, vextq_u32(zero, d, 3));
    return vaddq_u32(d, vextq_u32(zero, d, 2));
}

// out[x] = sum of padded[x .. x + 2r] for x < w: out[0] directly, then the running difference
// out[x] = out[x - 1] + padded[x + 2r] - padded[x - 1], 8 at a time as prefix sums of the
// differences plus the carried out[x - 1].
void box_row(const std::uint32_t* padded, std::size_t w, int r, std::uint32_t* out) {
    const std::size_t span = 2 * static_cast<std::size_t>(r);
    std::uint32_t s = 0;
    for (std::size_t i = 0; i <= span; ++i) s += padded[i];
    out[0] = s;
    std::size_t x = 1;
    if (x + 8 <= w) {
        uint32x4_t carry = vdupq_n_u32(s);
        for (; x + 8 <= w; x += 8) {
            const uint32x4_t d0 = prefix_sum4(
                vsubq_u32(vld1q_u32(padded + x + span), vld1q_u32(padded + x - 1)));
            const uint32x4_t d1 = prefix_sum4(
                vsubq_u32(vld1q_u32(padded + x + 4 + span), vld1q_u32(padded + x + 3)));
            vst1q_u32(out + x, vaddq_u32(d0, carry));
            carry = vaddq_u32(carry, vdupq_laneq_u32(d0, 3));
            vst1q_u32(out + x + 4, vaddq_u32(d1, carry));
            carry = vaddq_u32(carry, vdupq_laneq_u32(d1, 3));
        }
        s = vgetq_lane_u32(carry, 0);
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
    if (leaving != nullptr) {
        for (; x + 4 <= w; x += 4)
            vst1q_u32(column + x,
                      vsubq_u32(vaddq_u32(vld1q_u32(column + x), vld1q_u32(entering + x)),
                                vld1q_u32(leaving + x)));
        for (; x < w; ++x) column[x] = column[x] + entering[x] - leaving[x];
    } else {
        for (; x + 4 <= w; x += 4)
            vst1q_u32(column + x, vaddq_u32(vld1q_u32(column + x), vld1q_u32(entering + x)));
        for (; x < w; ++x) column[x] += entering[x];
    }
}

}  // namespace

void box_sum_neon(const std::uint32_t* src, int width, int height, int r, std::uint32_t* dst,
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
