// Geometry of crops and the fused crop + normalize kernel that feeds every network.
#pragma once
#include <cstdint>

#include "facekit/image.h"

namespace facekit {

// Maps an output pixel (x, y) to a source position: sx = m[0]x + m[1]y + m[2],
// sy = m[3]x + m[4]y + m[5]. Pixel centres sit at integer coordinates on both sides (the
// convention of cv2.warpAffine with WARP_INVERSE_MAP).
struct Affine {
    double m[6];
};

// A rotated rectangle in image coordinates, as MediaPipe's NormalizedRect scaled by the image
// size (so the centre of a W-pixel-wide image is W/2). `rotation` is in radians, clockwise as
// seen on screen (image y points down).
struct RotatedRect {
    double center_x, center_y, width, height, rotation;
};

// The image position of a point given in `rect`'s normalized frame: (0, 0) is the rect's
// top-left corner and (1, 1) its bottom-right, before rotation. Networks report detections and
// landmarks in this frame; this maps them back to continuous image coordinates.
struct Point {
    double x, y;
};
Point rect_point(const RotatedRect& rect, double nx, double ny) noexcept;

// The affine that samples `rect` into an out_width x out_height grid: output pixel (x, y) reads
// the image at rect_point(rect, x / out_width, y / out_height), MediaPipe's convention.
Affine rect_to_affine(const RotatedRect& rect, int out_width, int out_height);

// What neighbours outside the image contribute: zero intensity (before normalization, like
// cv2.BORDER_CONSTANT) or the nearest edge pixel (cv2.BORDER_REPLICATE).
enum class Border : std::uint8_t { Zero, Clamp };

struct CropNormalize {
    Affine transform;
    int out_width;
    int out_height;
    float scale[3];   // out = intensity * scale[c] + offset[c], channels in R, G, B order
    float offset[3];
    Border border;
};

// Largest accepted output side, and how far (in pixels) a sample may fall outside the image.
inline constexpr int kMaxCropSide = 4096;
inline constexpr double kMaxCoordinate = 1 << 22;

// Throws std::invalid_argument naming the problem (non-finite or absurd geometry, bad sizes,
// non-finite scale/offset).
void validate(const CropNormalize& params);

// Bilinear samples of `src` written as a float32 NHWC tensor of out_height x out_width x 3
// (RGB order whatever the source format; gray is replicated). `out` must hold that many floats.
// Validates both arguments, then runs the kernel chosen by the dispatcher.
void crop_normalize(const ImageView& src, const CropNormalize& params, float* out);

}  // namespace facekit
