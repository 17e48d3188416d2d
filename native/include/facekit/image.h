// Borrowed views of caller-owned 8-bit images. No Python in here.
#pragma once
#include <cstddef>
#include <cstdint>

namespace facekit {

enum class PixelFormat : std::uint8_t { Gray, RGB, BGR, RGBA, BGRA };

// Bytes per pixel of a format.
int bytes_per_pixel(PixelFormat format) noexcept;

// Which source byte feeds output channel R, G and B.
struct ChannelMap {
    int r, g, b;
};
ChannelMap rgb_channel_map(PixelFormat format) noexcept;

// A read-only view of an 8-bit image. `stride` is the signed byte distance between row starts
// (negative for bottom-up images); pixels within a row are packed.
struct ImageView {
    const std::uint8_t* data = nullptr;
    int width = 0;
    int height = 0;
    std::ptrdiff_t stride = 0;
    PixelFormat format = PixelFormat::RGB;
};

// Largest accepted image side, in pixels; larger images are rejected, not resized.
inline constexpr int kMaxImageSide = 16384;

// Throws std::invalid_argument naming the problem (null data, empty, too large, stride too
// small for a row, or a byte span over 2 GiB).
void validate(const ImageView& image);

// Copies the `width` x `height` block at (x0, y0) of `image` (which must contain it) into `out`
// as packed RGB, whatever the image's format (gray is replicated into all three channels).
void copy_rgb(const ImageView& image, int x0, int y0, int width, int height, std::uint8_t* out);

// Lowest and one-past-highest byte offsets, relative to `data`, that the view may read.
std::ptrdiff_t lowest_offset(const ImageView& image) noexcept;
std::ptrdiff_t end_offset(const ImageView& image) noexcept;

}  // namespace facekit
