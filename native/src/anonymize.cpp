#include "facekit/anonymize.h"

#include <algorithm>
#include <cmath>
#include <cstring>
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
        throw std::invalid_argument("cover_region: unknown cover method (a picture needs cover_ellipse)");
    if (method == Cover::Solid && color == nullptr)
        throw std::invalid_argument("cover_region: a solid cover needs a colour");
    const Region region{image, stride, channels, clip(x0, width), clip(y0, height), clip(x1, width),
                        clip(y1, height)};
    if (region.x1 <= region.x0 || region.y1 <= region.y0) return;
    switch (method) {
        case Cover::Pixelate: return pixelate(region, static_cast<int>(block));
        case Cover::Blur: return blur(region, static_cast<int>(block), arena);
        case Cover::Solid: return fill(region, color);
        case Cover::Picture: return;
    }
}

void cover_ellipse(std::uint8_t* image, int width, int height, std::ptrdiff_t stride, int channels,
                   const CoverEllipse& e, Cover method, std::int64_t block,
                   const std::uint8_t color[3], const CoverPicture* picture, Arena& arena) {
    validate(ImageView{image, width, height, stride, format_of(channels)});
    if (!std::isfinite(e.cx) || !std::isfinite(e.cy) || !std::isfinite(e.rx) || !std::isfinite(e.ry) ||
        !std::isfinite(e.angle) || e.rx < 0 || e.ry < 0)
        throw std::invalid_argument("cover_ellipse: the ellipse needs finite numbers and semi-axes >= 0");
    if (block < 1 || block > kMaxCoverBlock)
        throw std::invalid_argument("cover_ellipse: block must lie in [1, " +
                                    std::to_string(kMaxCoverBlock) + "], got " + std::to_string(block));
    if (method == Cover::Solid && color == nullptr)
        throw std::invalid_argument("cover_ellipse: a solid cover needs a colour");
    const int colored = std::min(channels, 3);  // alpha stays
    if (method == Cover::Picture) {
        if (picture == nullptr || picture->pixels == nullptr || picture->width < 1 || picture->height < 1)
            throw std::invalid_argument("cover_ellipse: a picture cover needs a picture");
        if (picture->channels != colored)
            throw std::invalid_argument("cover_ellipse: the picture has " + std::to_string(picture->channels) +
                                        " channels, the image's colour has " + std::to_string(colored));
    }
    if (e.rx <= 0 || e.ry <= 0) return;
    const double c = std::cos(e.angle), s = std::sin(e.angle);
    // The rotated ellipse's bounding box, clipped (in 64-bit arithmetic, so any ellipse is accepted).
    const double hx = std::hypot(e.rx * c, e.ry * s), hy = std::hypot(e.rx * s, e.ry * c);
    const auto bound = [](double v, int limit) {
        return clip(static_cast<std::int64_t>(std::clamp(v, -1.0, limit + 1.0)), limit);
    };
    const int x0 = bound(std::floor(e.cx - hx), width), x1 = bound(std::ceil(e.cx + hx), width);
    const int y0 = bound(std::floor(e.cy - hy), height), y1 = bound(std::ceil(e.cy + hy), height);
    if (x1 <= x0 || y1 <= y0) return;
    const Region target{image, stride, channels, x0, y0, x1, y1};
    // (u, v): the pixel centre in the ellipse's frame, the ellipse being u^2 + v^2 <= 1.
    const auto frame = [&](int x, int y, double& u, double& v) {
        const double dx = x + 0.5 - e.cx, dy = y + 0.5 - e.cy;
        u = (dx * c + dy * s) / e.rx;
        v = (dy * c - dx * s) / e.ry;
        return u * u + v * v <= 1.0;
    };
    const int w = x1 - x0, h = y1 - y0;
    const std::uint8_t* source = nullptr;  // the covered box, for Pixelate and Blur
    const std::ptrdiff_t row = static_cast<std::ptrdiff_t>(w) * channels;
    if (method == Cover::Pixelate || method == Cover::Blur) {
        auto* copy = arena.allocate_array<std::uint8_t>(static_cast<std::size_t>(row) * static_cast<std::size_t>(h));
        for (int y = 0; y < h; ++y) std::memcpy(copy + y * row, target.pixel(x0, y0 + y), static_cast<std::size_t>(row));
        const Region box{copy, row, channels, 0, 0, w, h};
        if (method == Cover::Pixelate) pixelate(box, static_cast<int>(block));
        else blur(box, static_cast<int>(block), arena);
        source = copy;
    }
    for (int y = y0; y < y1; ++y) {
        for (int x = x0; x < x1; ++x) {
            double u, v;
            if (!frame(x, y, u, v)) continue;
            std::uint8_t* out = target.pixel(x, y);
            if (source != nullptr) {
                std::memcpy(out, source + (y - y0) * row + static_cast<std::ptrdiff_t>(x - x0) * channels,
                            static_cast<std::size_t>(colored));
            } else if (method == Cover::Solid) {
                std::memcpy(out, color, static_cast<std::size_t>(colored));
            } else {
                const int px = std::clamp(static_cast<int>((u + 1.0) * 0.5 * picture->width), 0, picture->width - 1);
                const int py = std::clamp(static_cast<int>((v + 1.0) * 0.5 * picture->height), 0, picture->height - 1);
                std::memcpy(out, picture->pixels + static_cast<std::ptrdiff_t>(py) * picture->stride +
                                     static_cast<std::ptrdiff_t>(px) * picture->channels,
                            static_cast<std::size_t>(colored));
            }
        }
    }
}

}  // namespace facekit
