#include <pybind11/stl.h>

#include <algorithm>
#include <array>
#include <stdexcept>
#include <string>
#include <vector>

#include "bindings.h"
#include "facekit/centerface.h"
#include "facekit/detection.h"

namespace facekit::bindings {

void register_detection(py::module_& m) {
    m.attr("KEYPOINTS") = kDetectorKeypoints;
    m.attr("VALUES_PER_ANCHOR") = kDetectorValuesPerAnchor;
    m.def("anchor_count",
          [](const std::string& model) { return detector_spec(detector_model(model)).num_anchors; },
          py::arg("model"), "Number of SSD anchors of 'short_range' (896) or 'full_range' (2304).");
    m.def("input_size",
          [](const std::string& model) { return detector_spec(detector_model(model)).input_size; },
          py::arg("model"), "Square network input side: 128 (short_range) or 192 (full_range).");
    m.def("default_min_score",
          [](const std::string& model) {
              return detector_spec(detector_model(model)).default_min_score;
          },
          py::arg("model"), "MediaPipe's score threshold: 0.5 (short_range) or 0.6 (full_range).");

    m.def("decode",
          [](py::object arena_owner, const py::array& regressors, const py::array& classificators,
             const std::string& model, const std::array<double, 5>& rect, float min_score,
             int max_faces, float iou_threshold) {
              Arena& arena = arena_owner.cast<Arena&>();
              DetectionParams params;
              params.model = detector_model(model);
              params.min_score = min_score;
              params.max_faces = max_faces;
              params.iou_threshold = iou_threshold;
              params.rect = {rect[0], rect[1], rect[2], rect[3], rect[4]};
              validate(params);  // before allocating, so bad arguments cost no arena memory
              const std::size_t anchors = detector_spec(params.model).num_anchors;
              const float* raw_boxes =
                  float_values(regressors, "regressors", anchors * kDetectorValuesPerAnchor);
              const float* raw_scores = float_values(classificators, "classificators", anchors);
              // There are never more faces than anchors, whatever max_faces says.
              const std::size_t capacity = std::min<std::size_t>(max_faces, anchors);
              params.max_faces = static_cast<int>(capacity);
              float* keypoints = arena.allocate_array<float>(capacity * 2 * kDetectorKeypoints);
              std::vector<FaceBox> boxes(capacity);
              std::size_t count = 0;
              {
                  py::gil_scoped_release release;
                  count = decode_detections(raw_boxes, anchors * kDetectorValuesPerAnchor,
                                            raw_scores, anchors, params, boxes.data(), keypoints);
              }
              py::list faces;
              for (std::size_t i = 0; i < count; ++i) {
                  const FaceBox& b = boxes[i];
                  faces.append(py::make_tuple(b.score, b.x, b.y, b.width, b.height));
              }
              return py::make_tuple(
                  faces, arena_view(arena, keypoints,
                                    {static_cast<py::ssize_t>(count), kDetectorKeypoints, 2}));
          },
          py::arg("arena"), py::arg("regressors"), py::arg("classificators"), py::arg("model"),
          py::arg("rect"), py::arg("min_score"), py::arg("max_faces"),
          py::arg("iou_threshold") = kDefaultNmsThreshold,
          "Decode one BlazeFace inference: anchors, clipped sigmoid scores >= min_score, weighted "
          "NMS, projection through rect (center_x, center_y, width, height, rotation) to image "
          "pixels. Returns ([(score, x, y, width, height), ...] best first, keypoints), keypoints "
          "a read-only (n, 6, 2) float32 view in `arena`: right eye, left eye, nose tip, mouth "
          "centre, right and left ear tragion (the subject's right).");

    m.attr("CENTERFACE_KEYPOINTS") = kCenterFaceKeypoints;
    m.attr("CENTERFACE_STRIDE") = kCenterFaceStride;
    m.attr("CENTERFACE_DEFAULT_SCORE") = kCenterFaceDefaultScore;
    m.def("decode_centerface",
          [](py::object arena_owner, const py::array& heatmap, const py::array& scale,
             const py::array& offset, const py::array& landmarks,
             const std::array<double, 5>& rect, float min_score, int max_faces,
             float iou_threshold) {
              Arena& arena = arena_owner.cast<Arena&>();
              if (heatmap.ndim() < 2)
                  throw std::invalid_argument("heatmap must have a (rows, cols) grid, got " +
                                              std::to_string(heatmap.ndim()) + " dimensions");
              CenterFaceParams params;
              params.rows = static_cast<int>(heatmap.shape(heatmap.ndim() - 2));
              params.cols = static_cast<int>(heatmap.shape(heatmap.ndim() - 1));
              params.min_score = min_score;
              params.max_faces = max_faces;
              params.iou_threshold = iou_threshold;
              params.rect = {rect[0], rect[1], rect[2], rect[3], rect[4]};
              validate(params);  // before allocating, so bad arguments cost no arena memory
              const py::ssize_t plane = static_cast<py::ssize_t>(params.rows) * params.cols;
              const float* heat = float_values(heatmap, "heatmap", plane);
              const float* sizes = float_values(scale, "scale", 2 * plane);
              const float* shifts = float_values(offset, "offset", 2 * plane);
              const float* points =
                  float_values(landmarks, "landmarks", 2 * kCenterFaceKeypoints * plane);
              const std::size_t capacity =
                  std::min<std::size_t>(max_faces, static_cast<std::size_t>(plane));
              params.max_faces = static_cast<int>(capacity);
              float* keypoints = arena.allocate_array<float>(capacity * 2 * kCenterFaceKeypoints);
              std::vector<FaceBox> boxes(capacity);
              std::size_t count = 0;
              {
                  py::gil_scoped_release release;
                  count = decode_centerface(heat, sizes, shifts, points, params, boxes.data(),
                                            keypoints);
              }
              py::list faces;
              for (std::size_t i = 0; i < count; ++i) {
                  const FaceBox& b = boxes[i];
                  faces.append(py::make_tuple(b.score, b.x, b.y, b.width, b.height));
              }
              return py::make_tuple(
                  faces, arena_view(arena, keypoints,
                                    {static_cast<py::ssize_t>(count), kCenterFaceKeypoints, 2}));
          },
          py::arg("arena"), py::arg("heatmap"), py::arg("scale"), py::arg("offset"),
          py::arg("landmarks"), py::arg("rect"), py::arg("min_score"), py::arg("max_faces"),
          py::arg("iou_threshold") = kCenterFaceNmsThreshold,
          "Decode one CenterFace inference (maps of batch 1, NCHW, stride 4): cells whose heatmap "
          "value is > min_score, boxes from the scale and offset maps clipped to the input, "
          "greedy NMS (IoU >= iou_threshold suppresses), projection through rect (center_x, "
          "center_y, width, height, rotation) to image pixels. Returns ([(score, x, y, width, "
          "height), ...] best first, keypoints), keypoints a read-only (n, 5, 2) float32 view in "
          "`arena`: right eye, left eye, nose tip, right and left mouth corner.");
}

}  // namespace facekit::bindings
