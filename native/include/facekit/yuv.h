// Video frames: yuv420p planes <-> packed RGB, with correct rounding (what PyAV's accurate
// swscale conversion gives, within 1 per channel) and swscale's chroma siting. No Python in here.
#pragma once
#include <cstddef>
#include <cstdint>

#include "facekit/image.h"

namespace facekit {

// The YUV matrix (BT.601 or BT.709) and range (limited: Y 16..235, chroma 16..240; full: 0..255).
enum class YuvMatrix : std::uint8_t { Bt601, Bt709 };

struct YuvFormat {
    YuvMatrix matrix = YuvMatrix::Bt601;
    bool full_range = false;
    // Chroma siting when converting to RGB: between columns (swscale's default) or on even
    // columns (false: "left", H.264's and MPEG-2's). RGB is always converted centre-sited.
    bool centred = true;
};

// One 8-bit plane the conversion writes: `width` x `height` bytes, rows `stride` bytes apart.
struct PlaneOut {
    std::uint8_t* data = nullptr;
    int width = 0;
    int height = 0;
    std::ptrdiff_t stride = 0;
};

// Converts the yuv420p planes `y` (width x height), `u` and `v` (at least (width + 1) / 2 x
// (height + 1) / 2, all Gray views) into `rgb` (width x height x 3 bytes, packed pixels).
// std::invalid_argument naming the problem for mismatched sizes or null planes.
void yuv420_to_rgb(const ImageView& y, const ImageView& u, const ImageView& v, YuvFormat format,
                   const PlaneOut& rgb);

// Converts packed RGB (an RGB view) into yuv420p planes `y` (its size) and `u`, `v` (at least
// (width + 1) / 2 x (height + 1) / 2).
void rgb_to_yuv420(const ImageView& rgb, YuvFormat format, const PlaneOut& y, const PlaneOut& u,
                   const PlaneOut& v);

// Writes into `y`, `u`, `v` (holding `before`'s picture, e.g. the decoded planes `before` was
// converted from) only what changed from `before` to `after` (same-sized RGB views): each row
// pair's luma and its chroma row, over the even-aligned columns that span every pixel differing
// in the four rows its chroma reads, converted as rgb_to_yuv420(after) would; everything else
// stays as it was, bit for bit.
void rgb_changes_to_yuv420(const ImageView& before, const ImageView& after, YuvFormat format,
                           const PlaneOut& y, const PlaneOut& u, const PlaneOut& v);

}  // namespace facekit
