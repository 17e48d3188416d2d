// Face and iris ROIs and landmark projection. Landmarks stay in the arena: inputs are borrowed
// numpy views (never copied), outputs are new arena views; only ROIs (coarse geometry) come
// back as plain floats.
#include <pybind11/stl.h>

#include <array>
#include <stdexcept>
#include <string>
#include <tuple>
#include <utility>

#include "bindings.h"
#include "facekit/landmarks.h"

namespace facekit::bindings {

namespace {

using Roi = std::tuple<double, double, double, double, double>;  // cx, cy, w, h, rotation

Roi to_tuple(const RotatedRect& r) {
    return {r.center_x, r.center_y, r.width, r.height, r.rotation};
}

RotatedRect from_tuple(const std::array<double, 5>& t) { return {t[0], t[1], t[2], t[3], t[4]}; }

std::string shape_of(const py::array& a) {
    return "(" + dims(a, ", ") + (a.ndim() == 1 ? ",)" : ")");
}

// A landmark set: (468, 3) or (478, 3). Returns the data and the number of rows.
std::pair<const float*, int> landmark_rows(const py::array& a, const char* name) {
    const float* data = contiguous_floats(a, name);
    if (a.ndim() != 2 || a.shape(1) != 3 ||
        (a.shape(0) != kMeshLandmarks && a.shape(0) != kRefinedLandmarks))
        throw std::invalid_argument(std::string(name) + " must have shape (" + std::to_string(kMeshLandmarks) + ", 3) or (" +
                                    std::to_string(kRefinedLandmarks) + ", 3), got " +
                                    shape_of(a));
    return {data, static_cast<int>(a.shape(0))};
}

IrisDepth depth_from_name(const std::string& name) {
    if (name == "eye_average") return IrisDepth::EyeAverage;
    if (name == "network") return IrisDepth::Network;
    throw std::invalid_argument("unknown iris_depth '" + name +
                                "': expected eye_average or network");
}

}  // namespace

void register_landmarks(py::module_& m) {
    m.attr("MESH_POINTS") = kMeshLandmarks;
    m.attr("REFINED_POINTS") = kRefinedLandmarks;
    m.attr("FACE_INPUT_SIZE") = kFaceInputSize;
    m.attr("IRIS_INPUT_SIZE") = kIrisInputSize;

    m.def("roi_from_detection",
          [](const std::array<double, 4>& box, const py::array& keypoints, int image_width,
             int image_height) {
              const float* kp = contiguous_floats(keypoints, "keypoints");
              if (keypoints.ndim() != 2 || keypoints.shape(1) != 2 || keypoints.shape(0) < 2)
                  throw std::invalid_argument("keypoints must have shape (K, 2) with K >= 2 "
                                              "(BlazeFace: (6, 2)), got " + shape_of(keypoints));
              RotatedRect roi;
              {
                  py::gil_scoped_release release;
                  roi = face_roi_from_detection(box, {kp[0], kp[1]}, {kp[2], kp[3]}, image_width,
                                                image_height);
              }
              return to_tuple(roi);
          },
          py::arg("box"), py::arg("keypoints"), py::arg("image_width"), py::arg("image_height"),
          "Face ROI (cx, cy, w, h, rotation) from a detection box (x, y, w, h) and its keypoints "
          "(0: right eye, 1: left eye), as MediaPipe's FaceDetectionFrontDetectionToRoi.");

    m.def("project",
          [](py::object arena_owner, const py::array& raw, const std::array<double, 5>& roi,
             int input_size) {
              Arena& arena = arena_owner.cast<Arena&>();
              const float* in = float_values(raw, "raw landmarks", 3 * kMeshLandmarks);
              const RotatedRect rect = from_tuple(roi);
              float* out = arena.allocate_array<float>(3 * kMeshLandmarks);
              {
                  py::gil_scoped_release release;
                  project_face_landmarks(in, rect, input_size, out);
              }
              return arena_view(arena, out, {kMeshLandmarks, 3});
          },
          py::arg("arena"), py::arg("raw"), py::arg("roi"), py::arg("input_size") = kFaceInputSize,
          "face_landmark's 1404 outputs (input pixels) projected through `roi` into a new "
          "(468, 3) arena view: x, y in image pixels, z scaled like x.");

    m.def("roi_from_landmarks",
          [](const py::array& landmarks, int image_width, int image_height) {
              const auto [data, count] = landmark_rows(landmarks, "landmarks");
              RotatedRect roi;
              {
                  py::gil_scoped_release release;
                  roi = face_roi_from_landmarks(data, count, image_width, image_height);
              }
              return to_tuple(roi);
          },
          py::arg("landmarks"), py::arg("image_width"), py::arg("image_height"),
          "The next video frame's face ROI from this frame's landmarks, as MediaPipe's "
          "FaceLandmarkLandmarksToRoi.");

    m.def("eye_rois",
          [](const py::array& landmarks) {
              const float* data = landmark_rows(landmarks, "landmarks").first;
              EyeRois eyes;
              {
                  py::gil_scoped_release release;
                  eyes = eye_rois(data);
              }
              return std::make_pair(std::make_pair(to_tuple(eyes.right.roi), eyes.right.flipped),
                                    std::make_pair(to_tuple(eyes.left.roi), eyes.left.flipped));
          },
          py::arg("landmarks"),
          "((right_roi, flipped), (left_roi, flipped)): the iris network's crops, subject's "
          "right eye (corners 33, 133) first. A flipped eye's crop must be mirrored left-right "
          "before the network (crop with a negative width).");

    m.def("project_iris",
          [](py::object arena_owner, const py::array& landmarks, const py::array& right_iris,
             const py::array& left_iris, const std::array<double, 5>& right_roi,
             const std::array<double, 5>& left_roi, bool right_flipped, bool left_flipped,
             int input_size, const std::string& iris_depth) {
              Arena& arena = arena_owner.cast<Arena&>();
              const float* mesh = landmark_rows(landmarks, "landmarks").first;
              const float* right = float_values(right_iris, "right iris", 3 * kIrisLandmarks);
              const float* left = float_values(left_iris, "left iris", 3 * kIrisLandmarks);
              const IrisDepth depth = depth_from_name(iris_depth);
              const EyeRoi right_eye{from_tuple(right_roi), right_flipped};
              const EyeRoi left_eye{from_tuple(left_roi), left_flipped};
              float* out = arena.allocate_array<float>(3 * kRefinedLandmarks);
              {
                  py::gil_scoped_release release;
                  refine_with_iris(mesh, right, left, right_eye, left_eye, input_size, depth, out);
              }
              return arena_view(arena, out, {kRefinedLandmarks, 3});
          },
          py::arg("arena"), py::arg("landmarks"), py::arg("right_iris"), py::arg("left_iris"),
          py::arg("right_roi"), py::arg("left_roi"), py::arg("right_flipped"),
          py::arg("left_flipped"), py::arg("input_size") = kIrisInputSize,
          py::arg("iris_depth") = "eye_average",
          "A new (478, 3) arena view: the first 468 rows of `landmarks`, then the right iris "
          "(468..472) and the left iris (473..477) from iris_landmark's 15-float 'output_iris' tensors "
          "projected through their eye ROIs. iris_depth: 'eye_average' (MediaPipe's "
          "refine_landmarks: each iris z is its eye contour's mean z) or 'network'.");
}

}  // namespace facekit::bindings
