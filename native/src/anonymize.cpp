#include "facekit/anonymize.h"

#include <algorithm>
#include <stdexcept>

#include "kernels/beauty_kernels.h"

namespace facekit {

namespace {

void pixelate(std::uint8_t* image, std::ptrdiff_t stride, int channels, int x0, int y0, int x1,
              int y1, int block) {
    for (int by = y0; by < y1; by += block) {
        const int ey = std::min(by + block, y1);
        for (int bx = x0; bx < x1; bx += block) {
            const int ex = std::min(bx + block, x1);
            std::uint32_t sum[4] = {0, 0, 0, 0};
            for (int y = by; y < ey; ++y)
                for (int x = bx; x < ex; ++x)
                    for (int c = 0; c < channels; ++c) sum[c] += image[y * stride + x * channels + c];
            const std::uint32_t n = static_cast<std::uint32_t>((ey - by) * (ex - bx));
            for (int y = by; y < ey; ++y)
                for (int x = bx; x < ex; ++x)
                    for (int c = 0; c < channels; ++c)
                        image[y * stride + x * channels + c] = static_cast<std::uint8_t>((sum[c] + n / 2) / n);
        }
    }
}

void blur(std::uint8_t* image, std::ptrdiff_t stride, int channels, int x0, int y0, int x1, int y1,
          int radius, Arena& arena) {
    const int w = x1 - x0, h = y1 - y0;
    const std::size_t n = static_cast<std::size_t>(w) * h;
    std::uint32_t* plane = arena.allocate_array<std::uint32_t>(n);
    std::uint32_t* sums = arena.allocate_array<std::uint32_t>(n);
    std::uint32_t* scratch = arena.allocate_array<std::uint32_t>(static_cast<std::size_t>(w) + 2 * radius + 1);
    const std::uint64_t window = static_cast<std::uint64_t>(2 * radius + 1) * (2 * radius + 1);
    const std::uint64_t reciprocal = ((std::uint64_t{1} << 32) + window / 2) / window;
    for (int c = 0; c < channels; ++c) {
        for (int y = 0; y < h; ++y)
            for (int x = 0; x < w; ++x)
                plane[static_cast<std::size_t>(y) * w + x] = image[(y + y0) * stride + (x + x0) * channels + c];
        for (int pass = 0; pass < 3; ++pass) {
            kernels::box_sum(plane, w, h, radius, sums, scratch);
            for (std::size_t i = 0; i < n; ++i)
                plane[i] = static_cast<std::uint32_t>((sums[i] * reciprocal + (std::uint64_t{1} << 31)) >> 32);
        }
        for (int y = 0; y < h; ++y)
            for (int x = 0; x < w; ++x)
                image[(y + y0) * stride + (x + x0) * channels + c] =
                    static_cast<std::uint8_t>(std::min<std::uint32_t>(plane[static_cast<std::size_t>(y) * w + x], 255));
    }
}

}  // namespace

void cover_region(std::uint8_t* image, int width, int height, std::ptrdiff_t stride, int channels,
                  int x0, int y0, int x1, int y1, Cover method, int block,
                  const std::uint8_t color[3], Arena& arena) {
    if (image == nullptr || width <= 0 || height <= 0 || channels < 1 || channels > 4)
        throw std::invalid_argument("cover_region: bad image");
    if (block < 1) throw std::invalid_argument("cover_region: block must be at least 1");
    x0 = std::clamp(x0, 0, width), x1 = std::clamp(x1, 0, width);
    y0 = std::clamp(y0, 0, height), y1 = std::clamp(y1, 0, height);
    if (x1 <= x0 || y1 <= y0) return;
    switch (method) {
        case Cover::Pixelate: return pixelate(image, stride, channels, x0, y0, x1, y1, block);
        case Cover::Blur: return blur(image, stride, channels, x0, y0, x1, y1, block, arena);
        case Cover::Solid:
            for (int y = y0; y < y1; ++y)
                for (int x = x0; x < x1; ++x)
                    for (int c = 0; c < std::min(channels, 3); ++c)
                        image[y * stride + x * channels + c] = color[c];
            return;
    }
}

}  // namespace facekit
