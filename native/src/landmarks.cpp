#include "facekit/landmarks.h"

#include <algorithm>
#include <cmath>
#include <sstream>
#include <stdexcept>
#include <string>

namespace facekit {

const std::array<int, 16> kRightEyeContour = {33,  7,   163, 144, 145, 153, 154, 155,
                                              133, 246, 161, 160, 159, 158, 157, 173};
const std::array<int, 16> kLeftEyeContour = {263, 249, 390, 373, 374, 380, 381, 382,
                                             362, 466, 388, 387, 386, 385, 384, 398};

namespace {

constexpr double kPi = 3.14159265358979323846;

// Positions further out than this are nonsense (the crop kernel refuses them too).
bool sane(double v) noexcept { return std::isfinite(v) && std::fabs(v) <= kMaxCoordinate; }

void check_image_size(int image_width, int image_height) {
    if (image_width <= 0 || image_height <= 0)
        throw std::invalid_argument("image size " + std::to_string(image_width) + "x" +
                                    std::to_string(image_height) + " is not positive");
}

void check_input_size(int input_size) {
    if (input_size <= 0 || input_size > kMaxCropSide)
        throw std::invalid_argument("network input size " + std::to_string(input_size) +
                                    " is outside 1.." + std::to_string(kMaxCropSide));
}

void check_roi(const RotatedRect& roi) {
    if (!sane(roi.center_x) || !sane(roi.center_y) || !sane(roi.width) || !sane(roi.height) ||
        !std::isfinite(roi.rotation) || std::fabs(roi.rotation) > 1e6)
        throw std::invalid_argument("ROI is not finite (NaN, inf or absurdly large)");
    if (!(roi.width > 0) || !(roi.height > 0))
        throw std::invalid_argument("ROI needs a positive size");
}

void check_pointer(const void* p, const char* what) {
    if (p == nullptr) throw std::invalid_argument(std::string(what) + " is null");
}

// DetectionsToRectsCalculator (NORM_RECT with IMAGE_SIZE, so rotation in pixels) followed by
// RectTransformationCalculator {scale_x = scale_y = scale, square_long, no shift}, in pixels.
RotatedRect mediapipe_roi(double xmin, double ymin, double width, double height, Point start,
                          Point end, double scale) {
    RotatedRect r;
    r.center_x = xmin + width / 2;
    r.center_y = ymin + height / 2;
    // ComputeRotation: target_angle - atan2(-(y1 - y0), x1 - x0), normalized.
    r.rotation = normalize_radians(0.0 - std::atan2(-(end.y - start.y), end.x - start.x));
    // square_long: long side = max(w * image_w, h * image_h), i.e. the longer side in pixels.
    const double side = std::max(width, height) * scale;
    r.width = side;
    r.height = side;
    return r;
}

Point row_point(const float* rows, int index) {
    return {static_cast<double>(rows[3 * index]), static_cast<double>(rows[3 * index + 1])};
}

void project_points(const float* raw, int count, const RotatedRect& roi, bool flipped,
                    int input_size, float* out) {
    // Check everything first so a bad value leaves `out` untouched.
    for (int i = 0; i < 3 * count; ++i) {
        if (!std::isfinite(raw[i]))
            throw std::invalid_argument("landmark network output " + std::to_string(i / 3) +
                                        " is not finite");
    }
    const double size = input_size;
    for (int i = 0; i < count; ++i) {
        const double x = raw[3 * i], y = raw[3 * i + 1], z = raw[3 * i + 2];
        // TensorsToLandmarks: input pixels -> [0, 1] of the crop (mirrored back if flipped).
        const double nx = (flipped ? size - x : x) / size, ny = y / size;
        // LandmarkProjection: the crop's frame -> image. Identical to MediaPipe's
        // rotate-normalized-then-scale formula for the square-in-pixels ROIs used here, and
        // consistent with rect_to_affine (the crop) for any ROI.
        const Point p = rect_point(roi, nx, ny);
        out[3 * i] = static_cast<float>(p.x);
        out[3 * i + 1] = static_cast<float>(p.y);
        out[3 * i + 2] = static_cast<float>(z / size * roi.width);  // "scale Z coordinate as X"
    }
}

}  // namespace

double normalize_radians(double angle) noexcept {
    return angle - 2 * kPi * std::floor((angle - (-kPi)) / (2 * kPi));
}

RotatedRect face_roi_from_detection(const std::array<double, 4>& box, Point right_eye,
                                    Point left_eye, int image_width, int image_height) {
    check_image_size(image_width, image_height);
    for (double v : box) {
        if (!sane(v)) throw std::invalid_argument("detection box is not finite or absurdly large");
    }
    if (!sane(right_eye.x) || !sane(right_eye.y) || !sane(left_eye.x) || !sane(left_eye.y))
        throw std::invalid_argument("detection eye keypoints are not finite or absurdly large");
    if (!(box[2] > 0) || !(box[3] > 0)) {
        std::ostringstream what;
        what << "detection box of " << box[2] << "x" << box[3] << " is empty";
        throw std::invalid_argument(what.str());
    }
    return mediapipe_roi(box[0], box[1], box[2], box[3], right_eye, left_eye, kFaceRoiScale);
}

void project_face_landmarks(const float* raw, const RotatedRect& roi, int input_size, float* out) {
    project_landmarks(raw, kMeshLandmarks, roi, input_size, out);
}

void project_landmarks(const float* raw, int count, const RotatedRect& roi, int input_size,
                       float* out) {
    check_pointer(raw, "landmark network output");
    check_pointer(out, "landmark output buffer");
    if (count < 0) throw std::invalid_argument("landmark count is negative");
    check_roi(roi);
    check_input_size(input_size);
    project_points(raw, count, roi, false, input_size, out);
}

RotatedRect face_roi_from_landmarks(const float* landmarks, int count, int image_width,
                                    int image_height) {
    check_pointer(landmarks, "landmarks");
    check_image_size(image_width, image_height);
    if (count < kMeshLandmarks)
        throw std::invalid_argument("a face ROI needs the " + std::to_string(kMeshLandmarks) +
                                    "-point mesh, got " + std::to_string(count) + " points");
    // LandmarksToDetectionCalculator: the box that tightly encloses every landmark.
    double xmin = landmarks[0], xmax = xmin, ymin = landmarks[1], ymax = ymin;
    for (int i = 0; i < count; ++i) {
        const double x = landmarks[3 * i], y = landmarks[3 * i + 1];
        if (!sane(x) || !sane(y))
            throw std::invalid_argument("landmark " + std::to_string(i) +
                                        " is not finite or absurdly large");
        xmin = std::min(xmin, x);
        xmax = std::max(xmax, x);
        ymin = std::min(ymin, y);
        ymax = std::max(ymax, y);
    }
    if (!(xmax > xmin) && !(ymax > ymin))
        throw std::invalid_argument("landmarks all coincide: no ROI to track");
    return mediapipe_roi(xmin, ymin, xmax - xmin, ymax - ymin,
                         row_point(landmarks, kRightEyeOuter), row_point(landmarks, kLeftEyeOuter),
                         kFaceRoiScale);
}

EyeRois eye_rois(const float* landmarks) {
    check_pointer(landmarks, "landmarks");
    auto one = [&](int first, int second, bool flipped, const char* name) {
        const Point a = row_point(landmarks, first), b = row_point(landmarks, second);
        if (!sane(a.x) || !sane(a.y) || !sane(b.x) || !sane(b.y))
            throw std::invalid_argument(std::string(name) +
                                        " eye corners are not finite or absurdly large");
        const double xmin = std::min(a.x, b.x), ymin = std::min(a.y, b.y);
        const double width = std::fabs(b.x - a.x), height = std::fabs(b.y - a.y);
        if (!(width > 0) && !(height > 0))
            throw std::invalid_argument(std::string(name) + " eye corners coincide");
        return EyeRoi{mediapipe_roi(xmin, ymin, width, height, a, b, kEyeRoiScale), flipped};
    };
    // MediaPipe's IrisLandmarkLeftAndRight names eyes as seen on screen: its "left" eye (33,
    // 133) runs unflipped and its "right" eye (362, 263) gets IS_RIGHT_EYE = true, i.e. the
    // flip. In the subject's terms those are the right and the left eye.
    return EyeRois{one(kRightEyeOuter, kRightEyeInner, false, "right"),
                   one(kLeftEyeInner, kLeftEyeOuter, true, "left")};
}

void project_iris(const float* raw_iris, const RotatedRect& eye_roi, bool flipped, int input_size,
                  float* out) {
    check_pointer(raw_iris, "iris network output");
    check_pointer(out, "iris output buffer");
    check_roi(eye_roi);
    check_input_size(input_size);
    project_points(raw_iris, kIrisLandmarks, eye_roi, flipped, input_size, out);
}

void refine_with_iris(const float* mesh, const float* raw_right_iris, const float* raw_left_iris,
                      const EyeRoi& right, const EyeRoi& left, int input_size, IrisDepth depth,
                      float* out) {
    check_pointer(mesh, "mesh landmarks");
    check_pointer(out, "refined landmark buffer");
    if (depth != IrisDepth::EyeAverage && depth != IrisDepth::Network)
        throw std::invalid_argument("unknown iris depth mode");
    std::copy(mesh, mesh + 3 * kMeshLandmarks, out);
    auto place = [&](const float* raw, const EyeRoi& eye, int first,
                     const std::array<int, 16>& contour) {
        float* rows = out + 3 * first;
        project_iris(raw, eye.roi, eye.flipped, input_size, rows);
        // The network lists centre, +x edge, top, -x edge, bottom of the crop it saw. MediaPipe's
        // refined set lists both irises in the ROI's own frame (469 and 474 both on the +x
        // side), so a mirrored crop's two side points trade places.
        if (eye.flipped) std::swap_ranges(rows + 3, rows + 6, rows + 9);
        if (depth != IrisDepth::EyeAverage) return;
        // LandmarksRefinementCalculator z_refinement assign_average over the eye's contour.
        double z = 0;
        for (int index : contour) z += mesh[3 * index + 2];
        const float mean = static_cast<float>(z / static_cast<double>(contour.size()));
        for (int i = 0; i < kIrisLandmarks; ++i) rows[3 * i + 2] = mean;
    };
    place(raw_right_iris, right, kRightIrisFirst, kRightEyeContour);
    place(raw_left_iris, left, kLeftIrisFirst, kLeftEyeContour);
}

}  // namespace facekit
