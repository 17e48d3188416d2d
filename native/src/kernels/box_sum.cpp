// Box sums over a (2r+1)^2 window, borders replicated: the scalar reference (every SIMD variant
// equals it) and the dispatching entry point (beauty_kernels.h has the contract).
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>

#include "kernels/beauty_kernels.h"
#include "kernels/table.h"

namespace facekit::kernels {

void box_sum_scalar(const std::uint32_t* src, int width, int height, int r, std::uint32_t* dst,
                    std::uint32_t* scratch) {
    // Vertical pass into dst: running column sums, rows clamped at the borders.
    const std::size_t w = static_cast<std::size_t>(width);
    std::uint32_t* column = scratch;  // width values
    for (std::size_t x = 0; x < w; ++x) column[x] = 0;
    for (int dy = -r; dy <= r; ++dy) {
        const std::uint32_t* row = src + w * static_cast<std::size_t>(std::clamp(dy, 0, height - 1));
        for (std::size_t x = 0; x < w; ++x) column[x] += row[x];
    }
    for (int y = 0; y < height; ++y) {
        std::uint32_t* out = dst + w * static_cast<std::size_t>(y);
        for (std::size_t x = 0; x < w; ++x) out[x] = column[x];
        const std::uint32_t* leaving = src + w * static_cast<std::size_t>(std::max(y - r, 0));
        const std::uint32_t* entering = src + w * static_cast<std::size_t>(std::min(y + r + 1, height - 1));
        for (std::size_t x = 0; x < w; ++x) column[x] += entering[x] - leaving[x];
    }
    // Horizontal pass in place, one row at a time, through a copy padded by replication.
    std::uint32_t* padded = scratch;  // width + 2r values
    for (int y = 0; y < height; ++y) {
        std::uint32_t* row = dst + w * static_cast<std::size_t>(y);
        for (int i = 0; i < r; ++i) padded[i] = row[0];
        for (std::size_t x = 0; x < w; ++x) padded[r + x] = row[x];
        for (int i = 0; i < r; ++i) padded[r + width + i] = row[width - 1];
        std::uint32_t sum = 0;
        for (int i = 0; i < 2 * r + 1; ++i) sum += padded[i];
        for (int x = 0; x < width; ++x) {
            row[x] = sum;
            if (x + 1 < width) sum += padded[x + 2 * r + 1] - padded[x];
        }
    }
}

void box_sum(const std::uint32_t* src, int width, int height, int r, std::uint32_t* dst,
             std::uint32_t* scratch) {
    run(&KernelTable::box_sum, src, width, height, r, dst, scratch);
}

}  // namespace facekit::kernels
