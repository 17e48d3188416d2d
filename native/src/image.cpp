#include "facekit/image.h"

#include <cstring>
#include <stdexcept>
#include <string>

namespace facekit {

int bytes_per_pixel(PixelFormat format) noexcept {
    switch (format) {
        case PixelFormat::Gray: return 1;
        case PixelFormat::RGB:
        case PixelFormat::BGR: return 3;
        case PixelFormat::RGBA:
        case PixelFormat::BGRA: return 4;
    }
    return 0;
}

ChannelMap rgb_channel_map(PixelFormat format) noexcept {
    switch (format) {
        case PixelFormat::Gray: return {0, 0, 0};
        case PixelFormat::BGR:
        case PixelFormat::BGRA: return {2, 1, 0};
        case PixelFormat::RGB:
        case PixelFormat::RGBA: break;
    }
    return {0, 1, 2};
}

void copy_rgb(const ImageView& image, int x0, int y0, int width, int height, std::uint8_t* out) {
    const ChannelMap map = rgb_channel_map(image.format);
    const int bpp = bytes_per_pixel(image.format);
    for (int y = 0; y < height; ++y) {
        const std::uint8_t* row = image.data + (y + y0) * image.stride + static_cast<std::ptrdiff_t>(x0) * bpp;
        std::uint8_t* dst = out + static_cast<std::size_t>(y) * width * 3;
        if (image.format == PixelFormat::RGB) {  // already in order: a plain copy
            std::memcpy(dst, row, static_cast<std::size_t>(width) * 3);
            continue;
        }
        for (int x = 0; x < width; ++x) {
            dst[x * 3] = row[x * bpp + map.r];
            dst[x * 3 + 1] = row[x * bpp + map.g];
            dst[x * 3 + 2] = row[x * bpp + map.b];
        }
    }
}

std::ptrdiff_t lowest_offset(const ImageView& image) noexcept {
    const std::ptrdiff_t last_row = static_cast<std::ptrdiff_t>(image.height - 1) * image.stride;
    return last_row < 0 ? last_row : 0;
}

std::ptrdiff_t end_offset(const ImageView& image) noexcept {
    const std::ptrdiff_t last_row = static_cast<std::ptrdiff_t>(image.height - 1) * image.stride;
    const std::ptrdiff_t row_bytes =
        static_cast<std::ptrdiff_t>(image.width) * bytes_per_pixel(image.format);
    return (last_row > 0 ? last_row : 0) + row_bytes;
}

void validate(const ImageView& image) {
    const int bpp = bytes_per_pixel(image.format);
    if (bpp == 0) throw std::invalid_argument("unknown pixel format");
    if (image.width <= 0 || image.height <= 0)
        throw std::invalid_argument("image is empty (" + std::to_string(image.width) + "x" +
                                    std::to_string(image.height) + ")");
    if (image.width > kMaxImageSide || image.height > kMaxImageSide)
        throw std::invalid_argument("image of " + std::to_string(image.width) + "x" +
                                    std::to_string(image.height) + " exceeds the " +
                                    std::to_string(kMaxImageSide) + "-pixel side limit");
    if (image.data == nullptr) throw std::invalid_argument("image has no data");
    const std::ptrdiff_t row_bytes = static_cast<std::ptrdiff_t>(image.width) * bpp;
    const std::ptrdiff_t magnitude = image.stride < 0 ? -image.stride : image.stride;
    if (image.height > 1 && magnitude < row_bytes)
        throw std::invalid_argument("row stride of " + std::to_string(image.stride) +
                                    " bytes is smaller than a row of " + std::to_string(row_bytes));
    // Kernels address pixels with 32-bit offsets.
    if (end_offset(image) - lowest_offset(image) > (std::ptrdiff_t{1} << 31) - 1)
        throw std::invalid_argument("image spans more than 2 GiB of memory");
}

}  // namespace facekit
