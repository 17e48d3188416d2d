// Same-person verification: dlib's aligned face chip, cut from five mesh points, and the
// comparison of two descriptors. Chips and descriptors live only in the arena.
#pragma once
#include <cstddef>
#include <cstdint>

#include "facekit/arena.h"
#include "facekit/image.h"

namespace facekit {

// The mesh points standing in for dlib's 5-point model, in its order: the subject's left eye
// outer and inner corner, the right eye outer and inner corner, the base of the nose.
inline constexpr int kChipPoints[5] = {263, 362, 33, 133, 2};

// Cuts the `size` x `size` RGB chip dlib's get_face_chip(img, shape, size, padding) cuts for
// five points (x, y image pixels, in dlib's order): the least-squares similarity from dlib's
// mean-face template to the points, dlib's pyramid (a [1 4 6 4 1] filter, halving) while the
// chip is under half the source region's size, then bilinear sampling (black outside the
// image, truncated to 8 bits). Byte-identical to dlib-bin 20 for the same points. The chip
// and the pyramid levels are allocated from `arena`. Returns the chip (size * size * 3 bytes).
std::uint8_t* face_chip(const ImageView& image, const double points[5][2], int size,
                        double padding, Arena& arena);

// The chip as the embedding network's input: float32 NHWC, (pixel - mean) / 256 with dlib's
// per-channel means (R 122.782, G 117.001, B 104.298).
void normalize_chip(const std::uint8_t* chip, int size, float* out);

// Euclidean distance between two descriptors of `count` floats (in double).
double descriptor_distance(const float* a, const float* b, int count);

}  // namespace facekit
