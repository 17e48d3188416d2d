// Face and iris ROIs, landmark projection and the attention mesh's custom operators. Landmarks
// stay in the arena: inputs are borrowed numpy views (never copied), outputs are new arena
// views; only ROIs (coarse geometry) come back as plain floats.
#include <pybind11/stl.h>

#include <array>
#include <stdexcept>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "bindings.h"
#include "facekit/attention.h"
#include "facekit/landmarks.h"

namespace facekit::bindings {

namespace {

using Roi = std::tuple<double, double, double, double, double>;  // cx, cy, w, h, rotation

constexpr int kMaxRegions = 64;  // crops per call: the model has 3

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

// Three or more region arrays, (R, 4, 4) float32: returns R.
int matrix_count(const py::array& a, const char* name, int expected = 0) {
    contiguous_floats(a, name);
    if (a.ndim() != 3 || a.shape(0) < 1 || a.shape(0) > kMaxRegions || a.shape(1) != 4 ||
        a.shape(2) != 4)
        throw std::invalid_argument(std::string(name) + " must have shape (R, 4, 4) with R in 1.." +
                                    std::to_string(kMaxRegions) + ", got " + shape_of(a));
    if (expected != 0 && a.shape(0) != expected)
        throw std::invalid_argument(std::string(name) + " must have shape (" +
                                    std::to_string(expected) + ", 4, 4), got " + shape_of(a));
    return static_cast<int>(a.shape(0));
}

std::string region_repr(const AttentionRegion& r) {
    auto real = [](double v) { return py::repr(py::float_(v)).cast<std::string>(); };
    return "AttentionRegion(subset=<" + std::to_string(r.subset.size()) +
           " indices>, left_index=" + std::to_string(r.left_index) +
           ", right_index=" + std::to_string(r.right_index) +
           ", target_rotation=" + real(r.target_rotation) + ", scale_x=" + real(r.scale_x) +
           ", scale_y=" + real(r.scale_y) + ", output_width=" + std::to_string(r.output_width) +
           ", output_height=" + std::to_string(r.output_height) + ")";
}

AttentionRegion make_region(std::vector<int> subset, int left_index, int right_index,
                            double target_rotation, double scale_x, double scale_y,
                            int output_width, int output_height) {
    AttentionRegion r{std::move(subset), left_index,   right_index, target_rotation,
                      scale_x,           scale_y,      output_width, output_height};
    check_attention_region(r);
    return r;
}

// The attention functions convert their plain arguments here rather than in pybind11's
// signature: its TypeError for a mismatched call lists every argument's repr, landmark arrays
// included, and landmark values must never reach an exception message.
template <typename T>
T plain_arg(const py::handle& value, const char* name, const char* expected) {
    // An int is anything with __index__ (numpy's too) but a bool.
    if (std::is_integral_v<T> && (py::isinstance<py::bool_>(value) || !PyIndex_Check(value.ptr())))
        throw py::type_error(std::string(name) + " must be " + expected);
    try {
        return value.cast<T>();
    } catch (const py::cast_error&) {
        throw py::type_error(std::string(name) + " must be " + expected);
    }
}

std::vector<AttentionRegion> regions_arg(const py::handle& value) {
    if (!py::isinstance<py::sequence>(value) || py::isinstance<py::str>(value))
        throw py::type_error("regions must be a sequence of AttentionRegion");
    std::vector<AttentionRegion> regions;
    for (const py::handle item : value) {
        if (!py::isinstance<AttentionRegion>(item))
            throw py::type_error("regions must be a sequence of AttentionRegion");
        regions.push_back(item.cast<const AttentionRegion&>());
    }
    if (regions.empty() || regions.size() > static_cast<std::size_t>(kMaxRegions))
        throw std::invalid_argument("regions must hold 1.." + std::to_string(kMaxRegions) +
                                    " AttentionRegion, got " + std::to_string(regions.size()));
    return regions;
}

RotatedRect roi_arg(const py::handle& value) {
    const char* expected = "5 numbers (cx, cy, w, h, rotation)";
    if (!py::isinstance<py::sequence>(value) || py::isinstance<py::str>(value) ||
        py::len(value) != 5)
        throw py::type_error(std::string("roi must be ") + expected);
    std::array<double, 5> t{};
    for (std::size_t i = 0; i < 5; ++i)
        t[i] = plain_arg<double>(value[py::int_(i)], "roi", expected);
    return from_tuple(t);
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

    py::class_<AttentionRegion>(m, "AttentionRegion",
                                "One Landmarks2TransformMatrix operator's options (the attention "
                                "mesh's lips, left eye or right eye crop).")
        .def(py::init(&make_region), py::arg("subset"), py::arg("left_index"),
             py::arg("right_index"), py::arg("target_rotation"), py::arg("scale_x"),
             py::arg("scale_y"), py::arg("output_width"), py::arg("output_height"),
             "Checked options: subset indices (0..467, not empty) framed by the crop, the "
             "rotation line from mesh point left_index to right_index turned to target_rotation "
             "(radians), the box grown by (scale_x, scale_y), an output_width x output_height "
             "crop. ValueError names a bad option.")
        .def_property_readonly("subset", [](const AttentionRegion& r) {
            return py::tuple(py::cast(r.subset));
        })
        .def_readonly("left_index", &AttentionRegion::left_index)
        .def_readonly("right_index", &AttentionRegion::right_index)
        .def_readonly("target_rotation", &AttentionRegion::target_rotation)
        .def_readonly("scale_x", &AttentionRegion::scale_x)
        .def_readonly("scale_y", &AttentionRegion::scale_y)
        .def_readonly("output_width", &AttentionRegion::output_width)
        .def_readonly("output_height", &AttentionRegion::output_height)
        .def("__repr__", &region_repr)
        .def(py::pickle(
            [](const AttentionRegion& r) {
                return py::make_tuple(r.subset, r.left_index, r.right_index, r.target_rotation,
                                      r.scale_x, r.scale_y, r.output_width, r.output_height);
            },
            [](const py::tuple& t) {
                if (t.size() != 8) throw std::invalid_argument("bad AttentionRegion state");
                return make_region(t[0].cast<std::vector<int>>(), t[1].cast<int>(),
                                   t[2].cast<int>(), t[3].cast<double>(), t[4].cast<double>(),
                                   t[5].cast<double>(), t[6].cast<int>(), t[7].cast<int>());
            }));

    m.def("attention_matrices",
          [](py::object arena_owner, const py::array& mesh_raw, const py::object& regions_list,
             const py::object& mesh_scale_value) {
              Arena& arena = arena_owner.cast<Arena&>();
              const float* mesh = float_values(mesh_raw, "mesh_raw", 3 * kMeshLandmarks);
              const std::vector<AttentionRegion> regions = regions_arg(regions_list);
              const float mesh_scale = plain_arg<float>(mesh_scale_value, "mesh_scale", "a number");
              const int count = static_cast<int>(regions.size());
              float* out = arena.allocate_array<float>(16 * static_cast<std::size_t>(count));
              {
                  py::gil_scoped_release release;
                  for (int k = 0; k < count; ++k)
                      attention_matrix(mesh, mesh_scale, regions[k], out + 16 * k);
              }
              return arena_view(arena, out, {count, 4, 4});
          },
          py::arg("arena"), py::arg("mesh_raw"), py::arg("regions"), py::arg("mesh_scale"),
          "Landmarks2TransformMatrix v2 for each region (a sequence of AttentionRegion): the "
          "trunk's 1404 mesh outputs (input pixels) times mesh_scale (feature-map pixels per "
          "input pixel) -> a new (R, 4, 4) arena view of matrices mapping crop pixels to "
          "feature-map coordinates.");

    m.def("attention_crops",
          [](py::object arena_owner, const py::array& features, const py::array& matrices,
             const py::object& output_size_value) {
              Arena& arena = arena_owner.cast<Arena&>();
              const float* map = contiguous_floats(features, "features");
              const bool batched = features.ndim() == 4 && features.shape(0) == 1;
              if (!(batched || features.ndim() == 3) || features.size() == 0)
                  throw std::invalid_argument("features must have shape (1, H, W, C) or (H, W, C), "
                                              "not empty, got " + shape_of(features));
              const int first = batched ? 1 : 0;
              const py::ssize_t height = features.shape(first), width = features.shape(first + 1);
              const py::ssize_t channels = features.shape(first + 2);
              if (height > kMaxCropSide || width > kMaxCropSide || channels > 4096)
                  throw std::invalid_argument("features are absurdly large: shape " +
                                              shape_of(features));
              const int count = matrix_count(matrices, "matrices");
              const int output_size = plain_arg<int>(output_size_value, "output_size", "an int");
              if (output_size < 1 || output_size > kMaxCropSide)
                  throw std::invalid_argument("output_size " + std::to_string(output_size) +
                                              " is outside 1.." + std::to_string(kMaxCropSide));
              const float* m = static_cast<const float*>(matrices.data());
              const std::size_t crop = static_cast<std::size_t>(output_size) * output_size *
                                       static_cast<std::size_t>(channels);
              float* out = arena.allocate_array<float>(crop * count);
              {
                  py::gil_scoped_release release;
                  for (int k = 0; k < count; ++k)
                      transform_bilinear(map, static_cast<int>(height), static_cast<int>(width),
                                         static_cast<int>(channels), m + 16 * k, output_size,
                                         output_size, out + crop * k);
              }
              return arena_view(arena, out, {count, output_size, output_size, channels});
          },
          py::arg("arena"), py::arg("features"), py::arg("matrices"), py::arg("output_size") = 16,
          "TransformTensorBilinear v2 of the feature map for each (4, 4) matrix, written one "
          "after another into a new (R, output_size, output_size, C) arena view (the regions "
          "network's one input).");

    m.def("attention_landmarks",
          [](py::object arena_owner, const py::array& mesh_raw, const py::array& lips,
             const py::array& left_eye, const py::array& left_iris, const py::array& right_eye,
             const py::array& right_iris, const py::array& matrices,
             const py::array& matrix_scale, const py::object& regions_list,
             const py::object& roi_value, const py::object& input_size_value) {
              Arena& arena = arena_owner.cast<Arena&>();
              const std::vector<AttentionRegion> regions = regions_arg(regions_list);
              if (regions.size() != 3)
                  throw std::invalid_argument("regions must hold 3 AttentionRegion (lips, left "
                                              "eye, right eye), got " +
                                              std::to_string(regions.size()));
              auto points = [](const AttentionRegion& r) {
                  return 2 * static_cast<py::ssize_t>(r.subset.size());
              };
              AttentionHeads heads{};
              const float* mesh = float_values(mesh_raw, "mesh_raw", 3 * kMeshLandmarks);
              heads.lips = float_values(lips, "lips", points(regions[0]));
              heads.left_eye = float_values(left_eye, "left_eye", points(regions[1]));
              heads.left_iris = float_values(left_iris, "left_iris", 2 * kIrisLandmarks);
              heads.right_eye = float_values(right_eye, "right_eye", points(regions[2]));
              heads.right_iris = float_values(right_iris, "right_iris", 2 * kIrisLandmarks);
              matrix_count(matrices, "matrices", 3);
              matrix_count(matrix_scale, "matrix_scale", 3);
              const float* m = static_cast<const float*>(matrices.data());
              const float* scale = static_cast<const float*>(matrix_scale.data());
              const RotatedRect rect = roi_arg(roi_value);
              const int input_size = plain_arg<int>(input_size_value, "input_size", "an int");
              float* out = arena.allocate_array<float>(3 * kRefinedLandmarks);
              {
                  py::gil_scoped_release release;
                  attention_landmarks(mesh, heads, m, scale, regions.data(), rect, input_size, out);
              }
              return arena_view(arena, out, {kRefinedLandmarks, 3});
          },
          py::arg("arena"), py::arg("mesh_raw"), py::arg("lips"), py::arg("left_eye"),
          py::arg("left_iris"), py::arg("right_eye"), py::arg("right_iris"), py::arg("matrices"),
          py::arg("matrix_scale"), py::arg("regions"), py::arg("roi"),
          py::arg("input_size") = kFaceInputSize,
          "The attention mesh's 478 points as a new (478, 3) arena view in image pixels: the "
          "trunk's mesh, each region's points (TransformLandmarks with matrices * matrix_scale, "
          "both (3, 4, 4) float32) over its subset's x, y, the left-eye crop's iris as 468..472 "
          "and the right-eye crop's as 473..477 (z: the eye contour's mean), all projected "
          "through roi (cx, cy, w, h, rotation). regions: lips, left eye, right eye.");
}

}  // namespace facekit::bindings
