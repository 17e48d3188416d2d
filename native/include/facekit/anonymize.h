// Covering a region of an image so that the face in it can no longer be recognized or found.
#pragma once
#include <cstddef>
#include <cstdint>

#include "facekit/arena.h"

namespace facekit {

enum class Cover : std::uint8_t { Pixelate, Blur, Solid, Picture };

// Largest accepted `block`: the blur's box sums of 8-bit pixels, (2 * block + 1)^2 * 255, must
// stay within 32 bits. Coarser covers gain nothing: a block this size already flattens a face.
inline constexpr int kMaxCoverBlock = 2048;

// Covers the pixels of [x0, x1) x [y0, y1) (clipped to the image, in 64-bit arithmetic, so any
// box is accepted) of an interleaved 8-bit image with 1 (gray), 3 or 4 channels (rows `stride`
// bytes apart, negative allowed; the limits of facekit::validate apply) in place:
//   Pixelate: each `block` x `block` cell (anchored at x0, y0) becomes its mean colour;
//   Blur:     three box-filter passes of radius `block` (close to a Gaussian), edges replicated
//             inside the region, so nothing outside it is read or written;
//   Solid:    every pixel becomes `color` (given in the image's own channel order; a gray image
//             takes color[0]; alpha, if any, is kept).
// `block` must lie in [1, kMaxCoverBlock]. The blur's planes (face pixels) come from `arena`,
// wiped with its frame. Throws std::invalid_argument naming a bad argument.
void cover_region(std::uint8_t* image, int width, int height, std::ptrdiff_t stride, int channels,
                  std::int64_t x0, std::int64_t y0, std::int64_t x1, std::int64_t y1, Cover method,
                  std::int64_t block, const std::uint8_t color[3], Arena& arena);

// An ellipse in image pixels: centre, semi-axes and the rotation of the first axis from the
// image's x axis (radians, clockwise on screen as y points down).
struct CoverEllipse {
    double cx, cy, rx, ry, angle;
};

// A picture scaled into the ellipse by a Picture cover: 8-bit pixels with as many channels as
// the image's colour channels (1 for gray, 3 otherwise), rows `stride` bytes apart.
struct CoverPicture {
    const std::uint8_t* pixels;
    int width, height;
    std::ptrdiff_t stride;
    int channels;
};

// Covers the pixels whose centres lie inside `ellipse` (clipped to the image), the head's shape:
// Pixelate and Blur act as cover_region does over the ellipse's bounding box (cells anchored at
// its corner) and only the pixels inside the ellipse take the result; Solid fills them with
// `color`; Picture scales `picture` onto the ellipse's box in the ellipse's frame (nearest
// pixel), so it turns with the head. Alpha, if any, is kept. The copy of the box (face pixels)
// comes from `arena`. Throws std::invalid_argument naming a bad argument (a non-finite or
// negative ellipse, a picture missing or of the wrong channel count).
void cover_ellipse(std::uint8_t* image, int width, int height, std::ptrdiff_t stride, int channels,
                   const CoverEllipse& ellipse, Cover method, std::int64_t block,
                   const std::uint8_t color[3], const CoverPicture* picture, Arena& arena);

}  // namespace facekit
