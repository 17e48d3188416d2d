// BlazeFace post-processing, as MediaPipe's face detection graphs do it: SSD anchors
// (SsdAnchorsCalculator), box and keypoint decoding (TensorsToDetectionsCalculator), weighted
// non-maximum suppression (NonMaxSuppressionCalculator, algorithm WEIGHTED) and projection from the
// network's input crop back to the image.
//
// Privacy: keypoints are biometric. decode_detections() recomputes them from the raw regressors
// only for the faces it outputs and writes them straight into caller memory (the frame arena);
// candidates in between carry boxes and scores only. The stack accumulator it uses is zeroed.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "facekit/warp.h"

namespace facekit {

enum class DetectorModel : std::uint8_t {
    ShortRange,  // face_detection_short_range: 128x128 input, 896 anchors, faces within ~2 m
    FullRange,   // face_detection_full_range_sparse: 192x192 input, 2304 anchors, up to ~5 m
};

// "short_range" or "full_range"; anything else throws std::invalid_argument naming both.
DetectorModel detector_model(std::string_view name);
const char* detector_model_name(DetectorModel model) noexcept;

// Options of MediaPipe's SsdAnchorsCalculator that these models use (feature-map sizes are
// always derived from the strides here).
struct SsdAnchorOptions {
    int input_width = 0;
    int input_height = 0;
    int num_layers = 0;
    float min_scale = 0.0f;
    float max_scale = 0.0f;
    float anchor_offset_x = 0.5f;
    float anchor_offset_y = 0.5f;
    std::vector<int> strides;
    std::vector<float> aspect_ratios;
    bool reduce_boxes_in_lowest_layer = false;
    float interpolated_scale_aspect_ratio = 1.0f;
    bool fixed_anchor_size = false;
};

// Centre and size in the network input's normalized frame ([0, 1] across the input).
struct Anchor {
    float x_center, y_center, width, height;
};

// SsdAnchorsCalculator::GenerateAnchors: row-major over each feature map (y outer, x inner),
// the anchors of one cell consecutive. Throws std::invalid_argument for inconsistent options.
std::vector<Anchor> generate_anchors(const SsdAnchorOptions& options);

// The configuration MediaPipe's face_detection_{short,full}_range graphs give each model.
SsdAnchorOptions anchor_options(DetectorModel model);

struct DetectorSpec {
    int input_size;           // square network input side, in pixels
    int num_anchors;          // 896 or 2304
    double default_min_score;  // MediaPipe's min_score_thresh: 0.5 short range, 0.6 full range
};
const DetectorSpec& detector_spec(DetectorModel model) noexcept;

// The model's anchors, generated once (thread-safe) and cached.
const std::vector<Anchor>& detector_anchors(DetectorModel model);

inline constexpr int kDetectorValuesPerAnchor = 16;  // box (4) + 6 keypoints x (x, y)
inline constexpr int kDetectorKeypoints = 6;
inline constexpr float kDetectorScoreClip = 100.0f;  // logits are clipped to [-100, 100]
inline constexpr float kDefaultNmsThreshold = 0.3f;

// Keypoint order of the models (as MediaPipe's FaceKeyPoint): "right" is the subject's right,
// which appears on the left of an unmirrored image.
enum class FaceKeypoint : int {
    RightEye = 0,
    LeftEye = 1,
    NoseTip = 2,
    MouthCenter = 3,
    RightEarTragion = 4,
    LeftEarTragion = 5,
};

// One output face: the score of its best anchor and an axis-aligned box in image pixels
// (continuous coordinates, as RotatedRect), bounding the projected corners of the decoded box.
struct FaceBox {
    float score;
    float x, y, width, height;
};

struct DetectionParams {
    DetectorModel model = DetectorModel::ShortRange;
    float min_score = 0.5f;      // keep anchors whose sigmoid score is >= this, in [0, 1]
    int max_faces = 1;           // at least 1
    float iou_threshold = kDefaultNmsThreshold;  // merge when IoU > this, in [0, 1]
    RotatedRect rect{};          // what was cropped into the network input (e.g. the letterbox)
};

// The checks every face decoder shares (BlazeFace here, CenterFace): throws
// std::invalid_argument naming the problem: NaN or out-of-range min_score or iou_threshold,
// max_faces < 1, a rect that is not finite or has no positive size.
void validate_decoding(float min_score, float iou_threshold, int max_faces,
                       const RotatedRect& rect);

// The box, in image pixels, that bounds the corners of [x0, x1] x [y0, y1] (normalized to the
// network input) projected through `rect`, the crop the input was made from.
FaceBox projected_box(const RotatedRect& rect, float score, float x0, float y0, float x1,
                      float y1) noexcept;

// validate_decoding() plus a known model.
void validate(const DetectionParams& params);

// Decodes one inference of a BlazeFace model.
//   regressors: num_anchors x 16 floats; classificators: num_anchors logits (counts are checked
//   against the model). Anchors whose 16 values are not all finite are ignored, as are boxes of
//   negative width or height (as MediaPipe) and scores that underflow to exactly 0 (which
//   MediaPipe keeps at min_score 0, averaging them into NaN).
// Writes up to params.max_faces faces, best first: boxes[i] and keypoints[i * 12 ..] as six
// (x, y) image positions in FaceKeypoint order. `boxes` must hold max_faces entries and
// `keypoints` max_faces * 12 floats. Returns the number of faces written.
// Weighted NMS: the best remaining detection and every remaining one whose IoU with it exceeds
// iou_threshold form a cluster; the output's box and keypoints are the cluster's score-weighted
// means, its score the best one. Unlike MediaPipe, the best detection always belongs to its own
// cluster (MediaPipe stops outright at a zero-area box).
// Throws std::invalid_argument for bad parameters, counts or null pointers.
std::size_t decode_detections(const float* regressors, std::size_t regressors_count,
                              const float* classificators, std::size_t classificators_count,
                              const DetectionParams& params, FaceBox* boxes, float* keypoints);

}  // namespace facekit
