#include <pybind11/stl.h>

#include <array>
#include <cmath>
#include <string_view>

#include <stdexcept>
#include <string>

#include "bindings.h"
#include "facekit/dlib_hog.h"
#include "facekit/landmarks.h"
#include "facekit/process.h"
#include "facekit/verify.h"

namespace facekit::bindings {

namespace {

// A native model from the bytes the loader checked against the manifest (copied; not biometric).
template <typename Model>
Model from_bytes(const py::bytes& data) {
    const std::string_view bytes = data;
    return Model(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size());
}

}  // namespace

void register_verify(py::module_& m) {
    m.attr("CHIP_SIZE") = kChipSize;
    m.attr("CHIP_PADDING") = kChipPadding;
    m.attr("CHIP_MEAN_RGB") = py::make_tuple(kChipMeanRgb[0], kChipMeanRgb[1], kChipMeanRgb[2]);
    m.attr("CHIP_SCALE") = kChipScale;
    refuse_pickling(py::class_<ShapePredictor>(
                        m, "ShapePredictor",
                        "dlib's regression-tree shape predictor (facekit's flat form)."))
        .def(py::init(&from_bytes<ShapePredictor>), py::arg("data"))
        .def_property_readonly("parts", &ShapePredictor::parts)
        .def("predict",
             [](const ShapePredictor& self, const py::array& image, const std::string& format,
                const std::array<double, 4>& box, const py::object& arena_owner) {
                 const ImageView view = image_view(image, format);
                 auto& arena = arena_owner.cast<Arena&>();
                 float* points = arena.allocate_array<float>(static_cast<std::size_t>(self.parts()) * 2);
                 {
                     py::gil_scoped_release release;
                     double* found = arena.allocate_array<double>(static_cast<std::size_t>(self.parts()) * 2);
                     self.predict(view, {box[0], box[1], box[2], box[3]}, found, arena);
                     for (int i = 0; i < self.parts() * 2; ++i)
                         points[i] = static_cast<float>(std::floor(found[i] + 0.5));
                 }
                 return arena_view(arena, points, {self.parts(), 2});
             },
             py::arg("image"), py::arg("format"), py::arg("box"), py::arg("arena"),
             "The points for a face box (left, top, right, bottom), rounded to whole pixels as "
             "dlib rounds them, as a read-only (parts, 2) view into the arena.");
    refuse_pickling(py::class_<HogFaceDetector>(
                        m, "HogFaceDetector",
                        "dlib's frontal (HOG) face detector, run near one face."))
        .def(py::init(&from_bytes<HogFaceDetector>), py::arg("data"))
        .def_property_readonly("filters", &HogFaceDetector::filters)
        .def("find",
             [](const HogFaceDetector& self, const py::array& image, const std::string& format,
                const std::array<double, 4>& estimate, const py::object& arena_owner) -> py::object {
                 const ImageView view = image_view(image, format);
                 auto& arena = arena_owner.cast<Arena&>();
                 DlibRect box{};
                 double score = 0;
                 bool found = false;
                 {
                     py::gil_scoped_release release;
                     found = self.find(view, {estimate[0], estimate[1], estimate[2], estimate[3]}, box, arena, &score);
                 }
                 if (!found) return py::none();
                 return py::make_tuple(py::make_tuple(box.left, box.top, box.right, box.bottom), score);
             },
             py::arg("image"), py::arg("format"), py::arg("estimate"), py::arg("arena"),
             "((left, top, right, bottom), confidence) of the window dlib's detector(image, 1) "
             "reports near `estimate`, or None when no window there reaches its threshold.");
    m.def("chip_points",
          [](const py::array& image, const std::string& format, const py::array& landmarks,
             const HogFaceDetector& detector, const ShapePredictor& predictor,
             const py::object& arena_owner) {
              const ImageView view = image_view(image, format);
              const PointRows mesh = point_rows(landmarks, "landmarks", kMeshLandmarks);
              auto& arena = arena_owner.cast<Arena&>();
              float* points = arena.allocate_array<float>(10);
              bool found = false;
              {
                  py::gil_scoped_release release;
                  double at[5][2];
                  found = chip_points(view, mesh.data, mesh.stride, detector, predictor, at, arena);
                  for (int i = 0; i < 5; ++i)
                      points[2 * i] = static_cast<float>(at[i][0]), points[2 * i + 1] = static_cast<float>(at[i][1]);
                  wipe_stack(16 << 10);  // the points and the boxes sat there
              }
              return py::make_tuple(arena_view(arena, points, {5, 2}), found);
          },
          py::arg("image"), py::arg("format"), py::arg("landmarks"), py::arg("detector"),
          py::arg("predictor"), py::arg("arena"),
          "(points, found): the chip's five points (dlib's order, whole pixels) for the face "
          "whose mesh is `landmarks`, as a read-only (5, 2) view into the arena, and whether "
          "dlib's detector box was found near the face (else the mesh estimate was used).");
    m.def("chip",
          [](const py::array& image, const std::string& format, const py::array& points,
             const py::object& arena_owner, int size, double padding, bool raw,
             const std::array<float, 3>& mean, float scale) {
              const ImageView view = image_view(image, format);
              const PointRows five = point_rows(points, "points", 5);
              const float* data = five.data;
              const int stride = five.stride;
              auto& arena = arena_owner.cast<Arena&>();
              std::uint8_t* chip = nullptr;
              float* tensor = nullptr;
              {
                  py::gil_scoped_release release;
                  double at[5][2];
                  for (int i = 0; i < 5; ++i) at[i][0] = data[i * stride], at[i][1] = data[i * stride + 1];
                  chip = face_chip(view, at, size, padding, arena);
                  if (!raw) {
                      tensor = arena.allocate_array<float>(static_cast<std::size_t>(size) * size * 3);
                      normalize_chip(chip, size, mean.data(), scale, tensor);
                  }
                  wipe_stack(16 << 10);  // the five points and the transform sat there
              }
              if (raw) {
                  return py::object(arena_array<std::uint8_t>(
                      arena, chip, {py::ssize_t{size}, py::ssize_t{size}, py::ssize_t{3}}));
              }
              return py::object(arena_view(arena, tensor, {1, size, size, 3}));
          },
          py::arg("image"), py::arg("format"), py::arg("points"), py::arg("arena"),
          py::arg("size") = kChipSize, py::arg("padding") = kChipPadding,
          py::arg("raw") = false,
          py::arg("mean") = std::array<float, 3>{kChipMeanRgb[0], kChipMeanRgb[1], kChipMeanRgb[2]},
          py::arg("scale") = kChipScale,
          "dlib's aligned face chip for five points (float32 (5, 2), dlib's order), in the "
          "arena: the network's float32 (1, size, size, 3) input, (pixel - mean) * scale per "
          "RGB channel, or with raw=True the 8-bit chip.");
    m.def("distance",
          [](const py::array& a, const py::array& b) {
              // Read in place (views into the arena may have padded rows): no copy is made.
              auto flat = [](const py::array& x, const char* name) {
                  if (x.dtype().kind() != 'f' || x.dtype().itemsize() != 4 || x.size() == 0 ||
                      (x.ndim() == 2 && x.shape(0) != 1) || x.ndim() > 2 ||
                      x.strides(x.ndim() - 1) != 4)
                      throw std::invalid_argument(std::string(name) +
                                                  " must be a float32 (N,) or (1, N) array");
                  return std::make_pair(static_cast<const float*>(x.data()),
                                        static_cast<int>(x.shape(x.ndim() - 1)));
              };
              const auto [pa, na] = flat(a, "a");
              const auto [pb, nb] = flat(b, "b");
              if (na != nb) throw std::invalid_argument("descriptors differ in length");
              return descriptor_distance(pa, pb, na);
          },
          py::arg("a"), py::arg("b"), "Euclidean distance of two descriptors (a plain float).");
}

}  // namespace facekit::bindings
