// Drawing landmarks onto an image natively, so that no Python value ever holds a coordinate.
#pragma once
#include <cstdint>

namespace facekit {

// Paints a filled disc of `radius` pixels in `rgb` at each of `count` points (x, y taken from
// `points` with `point_stride` floats between points) onto an 8-bit RGB image with row
// `stride` bytes. Points outside the image are clipped; non-finite points are skipped.
void draw_points(std::uint8_t* image, int width, int height, std::ptrdiff_t stride,
                 const float* points, int count, int point_stride, const std::uint8_t rgb[3],
                 int radius);

}  // namespace facekit
