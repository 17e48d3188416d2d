// Covering a region of an image so that the face in it can no longer be recognized or found.
#pragma once
#include <cstddef>
#include <cstdint>

#include "facekit/arena.h"

namespace facekit {

enum class Cover : std::uint8_t { Pixelate, Blur, Solid };

// Covers the pixels of [x0, x1) x [y0, y1) (clipped to the image) of an interleaved 8-bit image
// (`channels` bytes per pixel, rows `stride` bytes apart) in place:
//   Pixelate: each `block` x `block` cell (anchored at x0, y0) becomes its mean colour;
//   Blur:     three box-filter passes of radius `block` (close to a Gaussian), edges replicated
//             inside the region, so nothing outside it is read or written;
//   Solid:    every pixel becomes `color` (given in the image's own channel order; alpha, if
//             any, is kept).
// `block` must be >= 1. The blur's planes (face pixels) come from `arena`, wiped with its frame.
// Throws std::invalid_argument for bad arguments.
void cover_region(std::uint8_t* image, int width, int height, std::ptrdiff_t stride, int channels,
                  int x0, int y0, int x1, int y1, Cover method, int block,
                  const std::uint8_t color[3], Arena& arena);

}  // namespace facekit
