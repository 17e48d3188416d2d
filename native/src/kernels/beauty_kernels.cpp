// Scalar reference of the beauty engine's pixel kernels.
#include "kernels/beauty_kernels.h"

#include <algorithm>
#include <cmath>

#include "facekit/dispatch.h"
#include "kernels/kernels.h"
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

void guided_coefficients_scalar(const std::uint32_t* sum_i, const std::uint32_t* sum_ii,
                                std::size_t count, float inv_n, float eps, std::uint32_t* a_q,
                                std::uint32_t* b_q) {
    for (std::size_t i = 0; i < count; ++i) {
        const float mean = static_cast<float>(sum_i[i]) * inv_n;
        const float corr = static_cast<float>(sum_ii[i]) * inv_n;
        const float var = std::max(corr - mean * mean, 0.0f);
        const float a = var / (var + eps);
        const float b = mean - a * mean;
        a_q[i] = static_cast<std::uint32_t>(a * 4096.0f + 0.5f);
        b_q[i] = static_cast<std::uint32_t>(std::max(b, 0.0f) * 16.0f + 0.5f);
    }
}

void guided_output_scalar(const std::uint32_t* sum_a, const std::uint32_t* sum_b,
                          const std::uint8_t* guide, int pixel_stride, std::size_t count,
                          float inv_n, std::uint8_t* out, int out_stride) {
    const float scale_a = inv_n * (1.0f / 4096.0f);
    const float scale_b = inv_n * (1.0f / 16.0f);
    for (std::size_t i = 0; i < count; ++i) {
        const float a = static_cast<float>(sum_a[i]) * scale_a;
        const float b = static_cast<float>(sum_b[i]) * scale_b;
        const float q = a * static_cast<float>(guide[i * pixel_stride]) + b;
        out[i * out_stride] = static_cast<std::uint8_t>(std::clamp(q, 0.0f, 255.0f) + 0.5f);
    }
}

void blend_scalar(const std::uint8_t* in, const std::uint8_t* target, const std::uint8_t* mask,
                  int weight_q8, std::size_t count, int channels, std::uint8_t* out) {
    for (std::size_t i = 0; i < count; ++i) {
        const int w = (mask[i] * weight_q8 + 128) >> 8;
        for (int c = 0; c < channels; ++c) {
            const int a = in[i * channels + c];
            const int t = target[i * channels + c];
            out[i * channels + c] = static_cast<std::uint8_t>(a + (((t - a) * w + 128) >> 8));
        }
    }
}

void remap_bilinear_scalar(const std::uint8_t* image, int width, int height,
                           std::ptrdiff_t stride, int channels, const float* positions,
                           std::size_t count, std::uint8_t* out) {
    const float max_x = static_cast<float>(width - 1), max_y = static_cast<float>(height - 1);
    for (std::size_t i = 0; i < count; ++i) {
        const float x = std::clamp(positions[2 * i], 0.0f, max_x);
        const float y = std::clamp(positions[2 * i + 1], 0.0f, max_y);
        const int x0 = static_cast<int>(x), y0 = static_cast<int>(y);
        const int fx = static_cast<int>((x - static_cast<float>(x0)) * 2048.0f + 0.5f);
        const int fy = static_cast<int>((y - static_cast<float>(y0)) * 2048.0f + 0.5f);
        const int x1 = std::min(x0 + 1, width - 1), y1 = std::min(y0 + 1, height - 1);
        const std::uint8_t* r0 = image + y0 * stride;
        const std::uint8_t* r1 = image + y1 * stride;
        for (int c = 0; c < channels; ++c) {
            const int top = r0[x0 * channels + c] * (2048 - fx) + r0[x1 * channels + c] * fx;
            const int bottom = r1[x0 * channels + c] * (2048 - fx) + r1[x1 * channels + c] * fx;
            // top, bottom < 2^19; the product sum < 2^30: exact in 32 bits.
            const int value = (top * (2048 - fy) + bottom * fy + (1 << 21)) >> 22;
            out[i * channels + c] = static_cast<std::uint8_t>(value);
        }
    }
}

// ---- dispatch ---------------------------------------------------------------------------------
// One count_call per call, for the active path, like crop_normalize. Scalar and SSE4.1 (which has
// no variant of its own here) run the scalar reference.

void apply_table_scalar(const std::uint8_t* in, std::size_t count, const std::uint8_t table[256],
                        std::uint8_t* out) {
    for (std::size_t i = 0; i < count; ++i) out[i] = table[in[i]];
}

void lut3d_scalar(const std::uint8_t* in, std::size_t count, const std::uint8_t* lut, int size,
                  std::uint8_t* out) {
    const int cells = size - 1;
    const std::size_t plane = static_cast<std::size_t>(size) * size;
    for (std::size_t i = 0; i < count; ++i) {
        int index[3], weight[3];
        for (int c = 0; c < 3; ++c) {
            const int p = (in[i * 3 + c] * cells * 256 + 127) / 255;
            index[c] = std::min(p >> 8, cells - 1);
            weight[c] = p - 256 * index[c];
        }
        const std::uint8_t* base =
            lut + (index[2] * plane + static_cast<std::size_t>(index[1]) * size + index[0]) * 3;
        for (int c = 0; c < 3; ++c) {
            std::uint32_t sum = 0;
            for (int corner = 0; corner < 8; ++corner) {
                const int dr = corner & 1, dg = (corner >> 1) & 1, db = (corner >> 2) & 1;
                const std::uint32_t w = static_cast<std::uint32_t>(
                    (dr ? weight[0] : 256 - weight[0]) * (dg ? weight[1] : 256 - weight[1])) *
                    static_cast<std::uint32_t>(db ? weight[2] : 256 - weight[2]);
                sum += w * base[((db * plane) + static_cast<std::size_t>(dg) * size + dr) * 3 + c];
            }
            out[i * 3 + c] = static_cast<std::uint8_t>((sum + (1u << 23)) >> 24);
        }
    }
}

void box_sum(const std::uint32_t* src, int width, int height, int r, std::uint32_t* dst,
             std::uint32_t* scratch) {
    run(&KernelTable::box_sum, src, width, height, r, dst, scratch);
}

void guided_coefficients(const std::uint32_t* sum_i, const std::uint32_t* sum_ii,
                         std::size_t count, float inv_n, float eps, std::uint32_t* a_q,
                         std::uint32_t* b_q) {
    run(&KernelTable::guided_coefficients, sum_i, sum_ii, count, inv_n, eps, a_q, b_q);
}

void guided_output(const std::uint32_t* sum_a, const std::uint32_t* sum_b,
                   const std::uint8_t* guide, int pixel_stride, std::size_t count, float inv_n,
                   std::uint8_t* out, int out_stride) {
    run(&KernelTable::guided_output, sum_a, sum_b, guide, pixel_stride, count, inv_n, out,
        out_stride);
}

void blend(const std::uint8_t* in, const std::uint8_t* target, const std::uint8_t* mask,
           int weight_q8, std::size_t count, int channels, std::uint8_t* out) {
    run(&KernelTable::blend, in, target, mask, weight_q8, count, channels, out);
}

void remap_bilinear(const std::uint8_t* image, int width, int height, std::ptrdiff_t stride,
                    int channels, const float* positions, std::size_t count, std::uint8_t* out) {
    run(&KernelTable::remap_bilinear, image, width, height, stride, channels, positions, count,
        out);
}

void apply_table(const std::uint8_t* in, std::size_t count, const std::uint8_t table[256],
                 std::uint8_t* out) {
    run(&KernelTable::apply_table, in, count, table, out);
}

void lut3d(const std::uint8_t* in, std::size_t count, const std::uint8_t* lut, int size,
           std::uint8_t* out) {
    run(&KernelTable::lut3d, in, count, lut, size, out);
}

}  // namespace facekit::kernels
