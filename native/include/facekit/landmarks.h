// Face-mesh and iris geometry: the regions each network sees and the projection of its output
// back to the image, as MediaPipe 0.10.14's legacy face_mesh / iris graphs compute them.
//
// Everything is in image pixels with RotatedRect's conventions (see warp.h: MediaPipe's
// normalized coordinates times the image size), and rotations are radians, clockwise on screen. MediaPipe works in coordinates normalized by the
// image size; the formulas below are its formulas multiplied out to pixels, which is exact
// because every step is either linear in the coordinates or (rotation, square_long) already
// taken in pixels by MediaPipe itself.
//
// Landmarks are biometric: the float arrays passed in and out here are meant to live in the
// secure arena. ROIs (centre, size, rotation) are coarse and may leave it.
#pragma once
#include <array>

#include "facekit/warp.h"

namespace facekit {

inline constexpr int kMeshLandmarks = 468;     // face_landmark's mesh
inline constexpr int kIrisLandmarks = 5;       // per eye: centre, then four edge points
inline constexpr int kRefinedLandmarks = 478;  // mesh + both irises, MediaPipe's refine order
inline constexpr int kFaceInputSize = 192;     // face_landmark's input side
inline constexpr int kIrisInputSize = 64;      // iris_landmark's input side

// Mesh indices MediaPipe's graphs use. "Right" and "left" are the subject's: in an unmirrored
// frontal photo the subject's right eye is on the image's left.
inline constexpr int kRightEyeOuter = 33;   // face ROI rotation start; right-eye ROI corner 0
inline constexpr int kRightEyeInner = 133;  // right-eye ROI corner 1
inline constexpr int kLeftEyeInner = 362;   // left-eye ROI corner 0
inline constexpr int kLeftEyeOuter = 263;   // face ROI rotation end; left-eye ROI corner 1
inline constexpr int kRightIrisFirst = 468;  // 468..472: right iris, centre first
inline constexpr int kLeftIrisFirst = 473;   // 473..477: left iris, centre first

// MediaPipe's RectTransformationCalculator factors for these graphs.
inline constexpr double kFaceRoiScale = 1.5;
inline constexpr double kEyeRoiScale = 2.3;

// NormalizeRadians: the angle in [-pi, pi).
double normalize_radians(double angle) noexcept;

// FaceDetectionFrontDetectionToRoi. `box` is the detection's (x, y, width, height) in image
// pixels; `right_eye` / `left_eye` are detection keypoints 0 and 1. The ROI is centred on the
// box, rotated so the right-to-left eye line is horizontal (target angle 0), and is a square
// of side 1.5 x max(box width, box height) in pixels (square_long squares in pixel space:
// MediaPipe takes max(w * image_w, h * image_h) and divides back per axis, so the crop is
// square on screen whatever the image's aspect). The image size is checked, nothing more:
// every step is already in pixels.
// Throws std::invalid_argument for non-finite or absurd values, a non-positive image size or
// an empty box.
RotatedRect face_roi_from_detection(const std::array<double, 4>& box, Point right_eye,
                                    Point left_eye, int image_width, int image_height);

// LandmarkProjection for face_landmark's output: `raw` is the network's (x, y, z) x 468 in
// input pixels (0..input_size); `out` receives (x, y, z) x 468 in image pixels, z scaled like
// x (z / input_size * roi.width). `roi` is the rect the input was cropped from. `out` may be
// `raw` (each row is read before it is written). Throws std::invalid_argument for a bad roi / input size / null pointer or a
// non-finite network value (nothing is written then).
void project_face_landmarks(const float* raw, const RotatedRect& roi, int input_size, float* out);

// The same for `count` rows (the attention mesh's 478), checked and projected alike.
void project_landmarks(const float* raw, int count, const RotatedRect& roi, int input_size,
                       float* out);

// FaceLandmarkLandmarksToRoi (the next video frame's ROI): the axis-aligned bounding box of all
// `count` points (x, y, z rows; count >= 468: pass 478 for a refined set, as MediaPipe's
// refine mode does), rotation from landmark 33 to 263 (target 0), square of 1.5 x the box's
// longer side in pixels. Throws std::invalid_argument for a bad count, non-finite points or
// a degenerate (zero-size) set.
RotatedRect face_roi_from_landmarks(const float* landmarks, int count, int image_width,
                                    int image_height);

// One eye's crop for iris_landmark. The network was trained on one eye orientation (the eye
// on the image's left in an unmirrored face: the subject's right eye); for the other eye the
// 64x64 crop must be flipped left-right before inference, and `flipped` says so.
struct EyeRoi {
    RotatedRect roi;
    bool flipped;
};
struct EyeRois {
    EyeRoi right;  // subject's right eye: corners 33 -> 133, not flipped; iris 468..472
    EyeRoi left;   // subject's left eye: corners 362 -> 263, flipped; iris 473..477
};

// IrisLandmarkLandmarksToRoi for both eyes of a mesh (>= 468 rows of x, y, z). Each ROI is the
// axis-aligned bounding box of the two corner points (centre = their midpoint), rotated from
// corner 0 to corner 1 (target 0), made square with side 2.3 x max(|dx|, |dy|) of the corners
// in pixels. Note: MediaPipe's side comes from the corners' bounding box, not their distance:
// for an eye line tilted by t it is the distance times max(|cos t|, |sin t|).
// Throws std::invalid_argument for non-finite corners or coinciding ones.
EyeRois eye_rois(const float* landmarks);

// LandmarkProjection for iris_landmark's "output_iris" (5 x (x, y, z) in input pixels), in the
// network's order (refine_with_iris reorders a flipped eye to MediaPipe's 478 order).
// For a flipped crop, x is first mirrored back (x -> input_size - x, as MediaPipe's
// TensorsToLandmarks FLIP_HORIZONTALLY); y and z are unchanged. Then as
// project_face_landmarks: image pixels through `eye_roi`, z / input_size * roi.width.
void project_iris(const float* raw_iris, const RotatedRect& eye_roi, bool flipped, int input_size,
                  float* out);

// What the 10 iris points carry as z in the 478-point set.
enum class IrisDepth {
    // MediaPipe 0.10.14's refine_landmarks: each iris point's z is the mean z of its eye's 16
    // mesh contour points (LandmarksRefinementCalculator assign_average), so it shares the
    // mesh's depth reference.
    EyeAverage,
    // The iris network's own z, projected like x (its reference is the eye crop, not the mesh).
    Network,
};

// The 478-point set, written straight into `out` (478 rows, in the arena): the 468 `mesh` rows
// copied, then the right iris (468..472) and the left iris (473..477) projected from the iris
// network's raw "output_iris" tensors (5 x (x, y, z) in input pixels) through their eye ROIs as
// project_iris does; z of the iris rows per `depth`. Each iris is ordered as in MediaPipe's
// refine_landmarks: centre, the ROI's +x edge (image right for an upright face), top, -x edge,
// bottom. The network lists the points of the crop it saw, so for a flipped eye its two side
// points are swapped here. Nothing is staged outside `out`.
// Throws std::invalid_argument as project_iris (then `out` may hold a partial result).
void refine_with_iris(const float* mesh, const float* raw_right_iris, const float* raw_left_iris,
                      const EyeRoi& right, const EyeRoi& left, int input_size, IrisDepth depth,
                      float* out);

// The 16 mesh contour points (lower contour with corners, upper contour without) whose mean z
// MediaPipe gives each iris, right eye first.
extern const std::array<int, 16> kRightEyeContour;
extern const std::array<int, 16> kLeftEyeContour;

}  // namespace facekit
