// Same-person verification: dlib's aligned face chip, its five points placed by dlib's own
// shape predictor in dlib's own face box (found near the mesh), and the comparison of two
// descriptors.
// Points, chips and descriptors live only in the arena or on the (wiped) stack.
#pragma once
#include <cstddef>
#include <cstdint>

#include "facekit/arena.h"
#include "facekit/dlib_hog.h"
#include "facekit/image.h"
#include "facekit/shape_predictor.h"

namespace facekit {

// The box dlib's frontal (HOG) face detector reports for a face, estimated from mesh points
// (`landmarks`: 468+ rows of x, y[, z] floats, `stride` floats apart). With the eye centres
// (33/133 and 263/362 averaged), the mouth centre (61, 291), u = right eye - left eye and v =
// mouth - eye midpoint, the box is centred at mean(eyes, mouth) + kBoxShift[0] u + kBoxShift[1] v
// with side kBoxSide[0] |u| + kBoxSide[1] |v|. The constants are a least-squares fit to dlib's
// boxes on faces outside the verification test set (models/fit_chip_box.py). It tells the HOG
// detector where to look, and stands in for dlib's box when dlib would find no face there.
inline constexpr double kBoxShift[2] = {-0.01178396, 0.10097951};
inline constexpr double kBoxSide[2] = {1.16472810, 1.23540861};
DlibRect dlib_box_from_mesh(const float* landmarks, std::ptrdiff_t stride);

// The chip's five points in dlib's order (the subject's left eye outer and inner corner, the
// right eye outer and inner corner, the base of the nose), placed as dlib's pipeline places
// them: `predictor` run in the box `detector` reports near the mesh (or in the mesh estimate
// when the detector reports none there), rounded to whole pixels as dlib stores them.
// Returns whether the detector's box was used.
bool chip_points(const ImageView& image, const float* landmarks, std::ptrdiff_t stride,
                 const HogFaceDetector& detector, const ShapePredictor& predictor,
                 double out[5][2], Arena& arena);

// Cuts the `size` x `size` RGB chip dlib's get_face_chip(img, shape, size, padding) cuts for
// five points (x, y image pixels, in dlib's order): the least-squares similarity from dlib's
// mean-face template to the points, dlib's pyramid (a [1 4 6 4 1] filter, halving) while the
// chip is under half the source region's size, then bilinear sampling (black outside the
// image, truncated to 8 bits). Byte-identical to dlib-bin 20 for the same points. The chip
// and the pyramid levels are allocated from `arena`. Returns the chip (size * size * 3 bytes).
std::uint8_t* face_chip(const ImageView& image, const double points[5][2], int size,
                        double padding, Arena& arena);

// dlib's chip for its face recognition network: size, padding, and the input normalization
// (pixel - mean) * scale. The ONNX model carries the normalization in its metadata
// (input_mean_rgb, input_scale; facekit reads it from there); these are the fallback.
inline constexpr int kChipSize = 150;
inline constexpr double kChipPadding = 0.25;
inline constexpr float kChipMeanRgb[3] = {122.782f, 117.001f, 104.298f};
inline constexpr float kChipScale = 1.0f / 256.0f;

// The chip as the embedding network's input: float32 NHWC, (pixel - mean[c]) * scale.
void normalize_chip(const std::uint8_t* chip, int size, const float mean[3], float scale,
                    float* out);

// Euclidean distance between two descriptors of `count` floats (in double).
double descriptor_distance(const float* a, const float* b, int count);

}  // namespace facekit
