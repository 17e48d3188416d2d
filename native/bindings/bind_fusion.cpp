#include <pybind11/stl.h>

#include <stdexcept>
#include <string>

#include "bindings.h"
#include "facekit/fusion.h"
#include "facekit/landmarks.h"
#include "facekit/process.h"

namespace facekit::bindings {

namespace {

MeshRegions mesh_regions(const std::vector<std::vector<int>>& regions) {
    if (regions.size() != static_cast<std::size_t>(Region::Count))
        throw std::invalid_argument("expected " + std::to_string(static_cast<int>(Region::Count)) +
                                    " mesh regions");
    MeshRegions out;
    for (std::size_t i = 0; i < regions.size(); ++i) out[i] = regions[i];
    return out;
}

float number(const py::handle& value, const char* key) {
    if (py::isinstance<py::bool_>(value) ||
        !(py::isinstance<py::float_>(value) || py::isinstance<py::int_>(value)))
        throw py::type_error(std::string(key) + " must be a number");
    return static_cast<float>(value.cast<double>());
}

bool flag(const py::handle& value, const char* key) {
    if (!py::isinstance<py::bool_>(value)) throw py::type_error(std::string(key) + " must be a bool");
    return value.cast<bool>();
}

// The params dict: every key optional (the FusionParams defaults), unknown keys refused.
FusionParams parse_params(const py::dict& d) {
    FusionParams p;
    for (const auto& item : d) {
        const std::string key = py::str(item.first);
        const py::handle value = item.second;
        if (key == "shape") p.shape = number(value, "shape");
        else if (key == "features") p.features = number(value, "features");
        else if (key == "smoothing") p.smoothing = number(value, "smoothing");
        else if (key == "keep_mouth") p.keep_mouth = flag(value, "keep_mouth");
        else if (key == "keep_eyes") p.keep_eyes = flag(value, "keep_eyes");
        else if (key == "blend") {
            if (!py::isinstance<py::str>(value)) throw py::type_error("blend must be a string");
            const std::string name = value.cast<std::string>();
            if (name == "multiband") p.blend = FusionBlend::Multiband;
            else if (name == "poisson") p.blend = FusionBlend::Poisson;
            else throw std::invalid_argument("blend must be 'multiband' or 'poisson'");
        } else {
            throw std::invalid_argument("unknown fusion parameter " + key);
        }
    }
    return p;
}

// A C-contiguous array of `dtype` and exactly `shape` (-1: any size), else ValueError.
template <typename T>
const T* exact(const py::array& a, const char* name, std::vector<py::ssize_t> shape,
               const char* what) {
    bool ok = py::isinstance<py::array_t<T>>(a) && (a.flags() & py::array::c_style) &&
              a.ndim() == static_cast<py::ssize_t>(shape.size());
    for (std::size_t i = 0; ok && i < shape.size(); ++i)
        ok = shape[i] < 0 ? a.shape(i) > 0 : a.shape(i) == shape[i];
    if (!ok)
        throw std::invalid_argument(std::string(name) + " must be a C-contiguous " + what +
                                    " array, got shape (" + dims(a, ", ") + ")");
    return static_cast<const T*>(a.data());
}

// Arena arrays (Arena.allocate) are read-only to Python but meant for native writers: their
// base chain ends in the capsule that holds their region (region_owner).
bool arena_owned(const py::array& a) {
    py::object base = a.attr("base");
    while (py::isinstance<py::array>(base)) base = base.attr("base");
    return py::isinstance<py::capsule>(base);
}

}  // namespace

void register_fusion(py::module_& m) {
    m.attr("MAX_TEXTURE_SIDE") = kFusionMaxTextureSide;
    m.attr("MIN_FACE_WIDTH") = kFusionMinFaceWidth;
    m.attr("SKIN_STATS") = kFusionSkinStats;
    m.attr("STATE_SIZE") = kFusionStateSize;
    m.def("prepare_user",
          [](const py::array& src, const std::string& format, const py::array& landmarks,
             const std::vector<std::vector<int>>& regions, const py::object& arena_owner) {
              const ImageView view = image_view(src, format);
              const PointRows points = point_rows(landmarks, "landmarks", kMeshLandmarks);
              const MeshRegions r = mesh_regions(regions);
              auto& arena = arena_owner.cast<Arena&>();
              FusionUser user;
              {
                  py::gil_scoped_release release;
                  // Dead frames held the mesh and skin statistics, on either way out.
                  try {
                      user = prepare_fusion_user(view, points.data, points.count, points.stride,
                                                 r, arena);
                  } catch (...) {
                      wipe_stack(64 << 10);
                      throw;
                  }
                  wipe_stack(64 << 10);
              }
              py::dict result;
              result["texture"] = arena_array<std::uint8_t>(arena, user.texture,
                                                            {user.height, user.width, 3});
              result["mesh"] = arena_view(arena, user.mesh, {kMeshLandmarks, 2});
              result["skin"] = arena_view(arena, user.skin, {kFusionSkinStats});
              return result;
          },
          py::arg("src"), py::arg("format"), py::arg("landmarks"), py::arg("regions"),
          py::arg("arena"),
          "Prepare a user's face for fusion: the face's crop resampled to at most MAX_TEXTURE_SIDE "
          "pixels a side (RGB), its mesh in texture pixels and its skin's Lab mean and standard "
          "deviation, as read-only arena views.");
    m.def("fuse",
          [](const py::array& src, py::array dst, const std::string& format,
             const py::array& landmarks, const py::array& texture, const py::array& mesh,
             const py::array& skin, const py::array& triangles,
             const std::vector<std::vector<int>>& regions, const py::dict& params,
             const py::object& arena_owner, const py::object& state, int track, bool trace) {
              const ImageView view = image_view(src, format);
              const ImageView out = writable_image_view(dst, format, "output image");
              if (out.width != view.width || out.height != view.height)
                  throw std::invalid_argument("output image must have the input's size");
              const PointRows points = point_rows(landmarks, "landmarks", kMeshLandmarks);
              FusionUser user;
              user.texture = exact<std::uint8_t>(texture, "texture", {-1, -1, 3}, "uint8 (h, w, 3)");
              user.height = static_cast<int>(texture.shape(0));
              user.width = static_cast<int>(texture.shape(1));
              user.mesh = exact<float>(mesh, "mesh", {kMeshLandmarks, 2}, "float32 (468, 2)");
              user.skin = exact<float>(skin, "skin", {kFusionSkinStats}, "float32 (6,)");
              const int* tris = exact<std::int32_t>(triangles, "triangles", {-1, 3}, "int32 (T, 3)");
              const int triangle_count = static_cast<int>(triangles.shape(0));
              const MeshRegions r = mesh_regions(regions);
              FusionParams p = parse_params(params);
              if (track < 0) throw std::invalid_argument("track must be >= 0");
              p.track = track % (1 << 24);  // kept in the float state exactly
              float* state_data = nullptr;
              if (!state.is_none()) {
                  if (!py::isinstance<py::array>(state))
                      throw std::invalid_argument("state must be None or a float32 (8,) array");
                  py::array s = state.cast<py::array>();
                  exact<float>(s, "state", {kFusionStateSize}, "float32 (8,)");
                  if (!s.writeable() && !arena_owned(s))
                      throw std::invalid_argument(
                          "state must be writable or an arena array (facekit.arena.allocate)");
                  // An arena array's flag says read-only to Python; native code owns its writes.
                  state_data = const_cast<float*>(static_cast<const float*>(s.data()));
              }
              auto& arena = arena_owner.cast<Arena&>();
              FusionTrace t;
              t.maps = trace;
              {
                  py::gil_scoped_release release;
                  // Dead frames held both meshes and the colour statistics, on either way out.
                  try {
                      fuse_face(view, static_cast<std::uint8_t*>(dst.mutable_data()), out.stride,
                                points.data, points.count, points.stride, user, tris,
                                triangle_count, r, p, state_data, arena, &t);
                  } catch (...) {
                      wipe_stack(64 << 10);
                      throw;
                  }
                  wipe_stack(64 << 10);
              }
              py::dict result;
              result["region"] = py::make_tuple(t.x0, t.y0, t.x1, t.y1);
              result["min_area"] = t.min_area;
              result["margin"] = t.margin;
              if (trace && t.x1 > t.x0) {
                  const py::ssize_t h = t.y1 - t.y0, w = t.x1 - t.x0;
                  if (t.warp) result["warp"] = arena_array<float>(arena, t.warp, {h, w, 2});
                  if (t.mask) result["mask"] = arena_array<std::uint8_t>(arena, t.mask, {h, w});
              }
              return result;
          },
          py::arg("src"), py::arg("dst"), py::arg("format"), py::arg("landmarks"),
          py::arg("texture"), py::arg("mesh"), py::arg("skin"), py::arg("triangles"),
          py::arg("regions"), py::arg("params"), py::arg("arena"), py::arg("state") = py::none(),
          py::arg("track") = 0, py::arg("trace") = false,
          "Fuse a prepared user face into the template face of src, writing the face's region of "
          "dst (which must already hold a copy of src). `state`: a video state array, `track`: the "
          "template face's track id (a new id restarts the state). Returns the region written, the smallest "
          "signed triangle area of the target geometry (> 0: no fold), the blend margin and, "
          "with trace, read-only arena views of the mask and the template's warp map.");
}

}  // namespace facekit::bindings
