#include <pybind11/stl.h>

#include <array>
#include <stdexcept>
#include <string>

#include "bindings.h"
#include "facekit/beauty.h"
#include "facekit/process.h"

namespace facekit::bindings {

namespace {

// A value of the strengths dict as T; a value of another type is a TypeError naming the key
// (pybind11's own cast error would surface as a bare RuntimeError).
template <typename T>
T entry(const py::dict& d, const char* key, const char* expected) {
    try {
        return d[key].cast<T>();
    } catch (const py::cast_error&) {
        throw py::type_error(std::string(key) + " must be " + expected);
    }
}

float number(const py::dict& d, const char* key) {
    return d.contains(key) ? entry<float>(d, key, "a number") : 0.0f;
}

Makeup makeup(const py::dict& d, const char* key) {
    Makeup m;
    if (!d.contains(key)) return m;
    const auto pair = entry<std::pair<float, std::array<int, 3>>>(
        d, key, "a (strength, (r, g, b)) pair");
    m.strength = pair.first;
    for (int c = 0; c < 3; ++c) {
        if (pair.second[c] < 0 || pair.second[c] > 255)
            throw std::invalid_argument(std::string(key) + " colour channels must lie in 0..255");
        m.rgb[c] = static_cast<std::uint8_t>(pair.second[c]);
    }
    return m;
}

// A read-only array over arena memory of any element type, owned by the arena object.
template <typename T>
py::array_t<T> arena_array(const py::object& owner, const T* data, std::vector<py::ssize_t> shape) {
    py::array_t<T> view(shape, data, owner);
    py::detail::array_proxy(view.ptr())->flags &= ~py::detail::npy_api::NPY_ARRAY_WRITEABLE_;
    return view;
}

}  // namespace

void register_beauty(py::module_& m) {
    m.def("apply",
          [](const py::array& src, py::array dst, const std::string& format,
             const py::array& landmarks, const std::vector<std::vector<int>>& regions,
             const py::dict& strengths, const py::object& lut, const py::object& arena_owner,
             bool trace) {
              const ImageView view = image_view(src, format);
              const ImageView out = image_view(dst, format);
              if (out.width != view.width || out.height != view.height)
                  throw std::invalid_argument("output image must have the input's size");
              if (!dst.writeable()) throw std::invalid_argument("output image is read-only");
              if (landmarks.dtype().kind() != 'f' || landmarks.dtype().itemsize() != 4 ||
                  landmarks.ndim() != 2 || landmarks.shape(1) < 2 || landmarks.strides(1) != 4 ||
                  landmarks.strides(0) % 4 != 0)
                  throw std::invalid_argument("landmarks must be a float32 (N, 2+) array");
              if (regions.size() != static_cast<std::size_t>(Region::Count))
                  throw std::invalid_argument("expected " + std::to_string(static_cast<int>(Region::Count)) +
                                              " mesh regions");
              MeshRegions mesh_regions;
              for (std::size_t i = 0; i < regions.size(); ++i) mesh_regions[i] = regions[i];
              BeautyParams p;
              p.smoothing = number(strengths, "smoothing");
              p.whitening = number(strengths, "whitening");
              p.rosy = number(strengths, "rosy");
              p.sharpen = number(strengths, "sharpen");
              p.dark_circles = number(strengths, "dark_circles");
              p.teeth_whitening = number(strengths, "teeth_whitening");
              p.face_slim = number(strengths, "face_slim");
              p.v_chin = number(strengths, "v_chin");
              p.chin_length = number(strengths, "chin_length");
              p.forehead = number(strengths, "forehead");
              p.eye_enlarge = number(strengths, "eye_enlarge");
              p.eye_distance = number(strengths, "eye_distance");
              p.nose_slim = number(strengths, "nose_slim");
              p.mouth_size = number(strengths, "mouth_size");
              p.lipstick = makeup(strengths, "lipstick");
              p.blush = makeup(strengths, "blush");
              p.brow_tint = makeup(strengths, "brow_tint");
              p.eyeshadow = makeup(strengths, "eyeshadow");
              py::array_t<std::uint8_t, py::array::c_style> table;
              if (!lut.is_none()) {
                  table = py::array_t<std::uint8_t, py::array::c_style>::ensure(lut);
                  if (!table || table.ndim() != 4 || table.shape(3) != 3 ||
                      table.shape(0) != table.shape(1) || table.shape(1) != table.shape(2))
                      throw std::invalid_argument("lut must be a uint8 (N, N, N, 3) array");
                  p.lut = table.data();
                  p.lut_size = static_cast<int>(table.shape(0));
                  p.lut_strength = number(strengths, "lut");
              }
              auto& arena = arena_owner.cast<Arena&>();
              BeautyTrace t;
              t.masks = trace;
              {
                  py::gil_scoped_release release;
                  beautify_face(view, static_cast<std::uint8_t*>(dst.mutable_data()), out.stride,
                                static_cast<const float*>(landmarks.data()),
                                static_cast<int>(landmarks.shape(0)),
                                static_cast<int>(landmarks.strides(0) / 4), mesh_regions, p,
                                arena, &t);
                  wipe_stack(64 << 10);  // the engine's dead frames held face geometry
              }
              py::dict result;
              result["region"] = py::make_tuple(t.x0, t.y0, t.x1, t.y1);
              if (trace && t.x1 > t.x0) {
                  const py::ssize_t h = t.y1 - t.y0, w = t.x1 - t.x0;
                  if (t.warp) result["warp"] = arena_array<float>(arena_owner, t.warp, {h, w, 2});
                  if (t.skin) result["skin"] = arena_array<std::uint8_t>(arena_owner, t.skin, {h, w});
                  if (t.lips) result["lips"] = arena_array<std::uint8_t>(arena_owner, t.lips, {h, w});
                  if (t.eyes) result["eyes"] = arena_array<std::uint8_t>(arena_owner, t.eyes, {h, w});
              }
              return result;
          },
          py::arg("src"), py::arg("dst"), py::arg("format"), py::arg("landmarks"),
          py::arg("regions"), py::arg("strengths"), py::arg("lut"), py::arg("arena"),
          py::arg("trace") = false,
          "Apply beauty effects to one face: read src, write the face's region of dst (which "
          "must already hold a copy of src). Scratch comes from the arena. Returns the region "
          "written and, with trace, read-only arena views of the warp map and masks.");
}

}  // namespace facekit::bindings
