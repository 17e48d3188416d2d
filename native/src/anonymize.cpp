#include "facekit/anonymize.h"

#include <algorithm>
#include <stdexcept>
#include <string>

#include "facekit/image.h"
#include "kernels/beauty_kernels.h"

namespace facekit {

namespace {

// The clipped region and how to address its bytes. Offsets are 64-bit: rows may be far apart.
struct Region {
    std::uint8_t* image;
    std::ptrdiff_t stride;
    int channels;
    int x0, y0, x1, y1;

    std::uint8_t* pixel(int x, int y) const {
        return image + static_cast<std::ptrdiff_t>(y) * stride + static_cast<std::ptrdiff_t>(x) * channels;
    }
};

void pixelate(const Region& r, int block) {
    // Cell ends and sums in 64 bits, so that no block or region size can overflow them.
    const auto end = [block](int start, int limit) {
        return static_cast<int>(std::min<std::int64_t>(std::int64_t{start} + block, limit));
    };
    for (int by = r.y0, ey; by < r.y1; by = ey) {
        ey = end(by, r.y1);
        for (int bx = r.x0, ex; bx < r.x1; bx = ex) {
            ex = end(bx, r.x1);
            std::uint64_t sum[4] = {0, 0, 0, 0};
            for (int y = by; y < ey; ++y)
                for (int x = bx; x < ex; ++x)
                    for (int c = 0; c < r.channels; ++c) sum[c] += r.pixel(x, y)[c];
            const std::uint64_t n = static_cast<std::uint64_t>(ey - by) * static_cast<std::uint64_t>(ex - bx);
            for (int y = by; y < ey; ++y)
                for (int x = bx; x < ex; ++x)
                    for (int c = 0; c < r.channels; ++c)
                        r.pixel(x, y)[c] = static_cast<std::uint8_t>((sum[c] + n / 2) / n);
        }
    }
}

void blur(const Region& r, int radius, Arena& arena) {
    const int w = r.x1 - r.x0, h = r.y1 - r.y0;
    const std::size_t n = static_cast<std::size_t>(w) * static_cast<std::size_t>(h);
    std::uint32_t* plane = arena.allocate_array<std::uint32_t>(n);
    std::uint32_t* sums = arena.allocate_array<std::uint32_t>(n);
    std::uint32_t* scratch = arena.allocate_array<std::uint32_t>(static_cast<std::size_t>(w) + 2 * static_cast<std::size_t>(radius) + 1);
    // radius <= kMaxCoverBlock keeps window * 255 below 2^32, the box sums' width.
    const std::uint64_t side = 2 * static_cast<std::uint64_t>(radius) + 1;
    const std::uint64_t window = side * side;
    const std::uint64_t reciprocal = ((std::uint64_t{1} << 32) + window / 2) / window;
    const std::size_t row = static_cast<std::size_t>(w);
    for (int c = 0; c < r.channels; ++c) {
        for (int y = 0; y < h; ++y)
            for (int x = 0; x < w; ++x) plane[y * row + x] = r.pixel(x + r.x0, y + r.y0)[c];
        for (int pass = 0; pass < 3; ++pass) {
            kernels::box_sum(plane, w, h, radius, sums, scratch);
            for (std::size_t i = 0; i < n; ++i)
                plane[i] = static_cast<std::uint32_t>((sums[i] * reciprocal + (std::uint64_t{1} << 31)) >> 32);
        }
        for (int y = 0; y < h; ++y)
            for (int x = 0; x < w; ++x)
                r.pixel(x + r.x0, y + r.y0)[c] = static_cast<std::uint8_t>(std::min<std::uint32_t>(plane[y * row + x], 255));
    }
}

void fill(const Region& r, const std::uint8_t color[3]) {
    const int colored = std::min(r.channels, 3);  // alpha stays
    for (int y = r.y0; y < r.y1; ++y)
        for (int x = r.x0; x < r.x1; ++x)
            for (int c = 0; c < colored; ++c) r.pixel(x, y)[c] = color[c];
}

PixelFormat format_of(int channels) {
    switch (channels) {
        case 1: return PixelFormat::Gray;
        case 3: return PixelFormat::RGB;
        case 4: return PixelFormat::RGBA;
        default:
            throw std::invalid_argument("cover_region: an image has 1, 3 or 4 channels, got " +
                                        std::to_string(channels));
    }
}

int clip(std::int64_t v, int limit) { return static_cast<int>(std::clamp<std::int64_t>(v, 0, limit)); }

}  // namespace

void cover_region(std::uint8_t* image, int width, int height, std::ptrdiff_t stride, int channels,
                  std::int64_t x0, std::int64_t y0, std::int64_t x1, std::int64_t y1, Cover method,
                  std::int64_t block, const std::uint8_t color[3], Arena& arena) {
    validate(ImageView{image, width, height, stride, format_of(channels)});
    if (block < 1 || block > kMaxCoverBlock)
        throw std::invalid_argument("cover_region: block must lie in [1, " +
                                    std::to_string(kMaxCoverBlock) + "], got " + std::to_string(block));
    if (method != Cover::Pixelate && method != Cover::Blur && method != Cover::Solid)
        throw std::invalid_argument("cover_region: unknown cover method");
    if (method == Cover::Solid && color == nullptr)
        throw std::invalid_argument("cover_region: a solid cover needs a colour");
    const Region region{image, stride, channels, clip(x0, width), clip(y0, height), clip(x1, width),
                        clip(y1, height)};
    if (region.x1 <= region.x0 || region.y1 <= region.y0) return;
    switch (method) {
        case Cover::Pixelate: return pixelate(region, static_cast<int>(block));
        case Cover::Blur: return blur(region, static_cast<int>(block), arena);
        case Cover::Solid: return fill(region, color);
    }
}

}  // namespace facekit
