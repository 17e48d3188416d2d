#include <pybind11/stl.h>

#include <algorithm>
#include <array>
#include <iterator>
#include <stdexcept>
#include <string>

#include "bindings.h"
#include "facekit/beauty.h"
#include "facekit/process.h"

namespace facekit::bindings {

namespace {

// Every key the strengths dict may hold (BeautyOptions._strengths in facekit/beauty.py).
constexpr const char* kStrengthKeys[] = {
#define FACEKIT_BEAUTY_EFFECT(name, kind, stage, r, g, b) #name,
#include "facekit/beauty_effects.def"
#undef FACEKIT_BEAUTY_EFFECT
};

const char* kind_name(EffectKind kind) {
    switch (kind) {
        case EffectKind::Unsigned: return "unsigned";
        case EffectKind::Signed: return "signed";
        case EffectKind::Makeup: return "makeup";
        case EffectKind::Lut: return "lut";
    }
    return "?";
}

void check_keys(const py::dict& d) {
    for (const auto& item : d) {
        const std::string key = py::str(item.first);
        if (std::find(std::begin(kStrengthKeys), std::end(kStrengthKeys), key) == std::end(kStrengthKeys))
            throw std::invalid_argument("unknown beauty strength " + key);
    }
}

// A strength: a Python int or float (not a bool, not a string), else a TypeError naming the key
// (a fuzz finding: pybind11's own cast error surfaced as a bare RuntimeError); the engine
// checks its range.
float strength(const py::handle& value, const char* key) {
    if (py::isinstance<py::bool_>(value) ||
        !(py::isinstance<py::float_>(value) || py::isinstance<py::int_>(value)))
        throw py::type_error(std::string(key) + " strength must be a number");
    return static_cast<float>(value.cast<double>());
}

float number(const py::dict& d, const char* key) {
    return d.contains(key) ? strength(d[key], key) : 0.0f;
}

// A makeup entry; an absent key leaves `m` (the table's default colour, strength 0) as is.
void makeup(const py::dict& d, const char* key, Makeup& m) {
    if (!d.contains(key)) return;
    const py::object value = d[key];
    const std::string shape = std::string(key) + " must be (strength, (r, g, b))";
    if (!py::isinstance<py::tuple>(value) || py::len(value) != 2) throw py::type_error(shape);
    const auto pair = value.cast<py::tuple>();
    m.strength = strength(pair[0], key);
    std::array<int, 3> rgb{};
    try {
        rgb = pair[1].cast<std::array<int, 3>>();
    } catch (const py::cast_error&) {
        throw py::type_error(shape + " with integer channels");
    }
    for (int c = 0; c < 3; ++c) {
        if (rgb[c] < 0 || rgb[c] > 255)
            throw std::invalid_argument(std::string(key) + " colour channels must lie in 0..255");
        m.rgb[c] = static_cast<std::uint8_t>(rgb[c]);
    }
}

void default_color(py::dict&, const char*, float) {}
void default_color(py::dict& colors, const char* name, const Makeup& m) {
    colors[name] = py::make_tuple(m.rgb[0], m.rgb[1], m.rgb[2]);
}

void parse(const py::dict& d, const char* key, float& out) { out = number(d, key); }
void parse(const py::dict& d, const char* key, Makeup& out) { makeup(d, key, out); }

}  // namespace

void register_beauty(py::module_& m) {
    py::list effects;
    py::dict colors;
    const BeautyParams defaults;
#define FACEKIT_BEAUTY_EFFECT(name, kind, stage, r, g, b)                   \
    effects.append(py::make_tuple(#name, kind_name(EffectKind::kind))); \
    default_color(colors, #name, defaults.name);
#include "facekit/beauty_effects.def"
#undef FACEKIT_BEAUTY_EFFECT
    // (name, kind) of every effect, in table order; kind is "unsigned" (0..1), "signed"
    // (-1..1), "makeup" (0..1 and a colour) or "lut" (0..1 and a colour table).
    m.attr("EFFECTS") = py::tuple(effects);
    // The default (r, g, b) of every makeup effect.
    m.attr("DEFAULT_COLORS") = colors;
    m.def("apply",
          [](const py::array& src, py::array dst, const std::string& format,
             const py::array& landmarks, const std::vector<std::vector<int>>& regions,
             const py::dict& strengths, const py::object& lut, const py::object& arena_owner,
             bool trace) {
              const ImageView view = image_view(src, format);
              const ImageView out = writable_image_view(dst, format, "output image");
              if (out.width != view.width || out.height != view.height)
                  throw std::invalid_argument("output image must have the input's size");
              const PointRows points = point_rows(landmarks, "landmarks");
              if (regions.size() != static_cast<std::size_t>(Region::Count))
                  throw std::invalid_argument("expected " + std::to_string(static_cast<int>(Region::Count)) +
                                              " mesh regions");
              check_keys(strengths);
              MeshRegions mesh_regions;
              for (std::size_t i = 0; i < regions.size(); ++i) mesh_regions[i] = regions[i];
              BeautyParams p;
              // The lut row is read below, with its table.
#define FACEKIT_BEAUTY_EFFECT(name, kind, stage, r, g, b) \
    if (EffectKind::kind != EffectKind::Lut) parse(strengths, #name, p.name);
#include "facekit/beauty_effects.def"
#undef FACEKIT_BEAUTY_EFFECT
              py::array_t<std::uint8_t, py::array::c_style> table;
              if (!lut.is_none()) {
                  // uint8 only: ensure() alone would cast a float table silently.
                  if (!py::isinstance<py::array_t<std::uint8_t>>(lut))
                      throw std::invalid_argument("lut must be a uint8 (N, N, N, 3) array");
                  table = py::array_t<std::uint8_t, py::array::c_style>::ensure(lut);
                  if (!table || table.ndim() != 4 || table.shape(3) != 3 ||
                      table.shape(0) != table.shape(1) || table.shape(1) != table.shape(2))
                      throw std::invalid_argument("lut must be a uint8 (N, N, N, 3) array");
                  p.lut_table = table.data();
                  p.lut_size = static_cast<int>(table.shape(0));
                  p.lut = number(strengths, "lut");
              }
              auto& arena = arena_owner.cast<Arena&>();
              BeautyTrace t;
              t.masks = trace;
              {
                  py::gil_scoped_release release;
                  beautify_face(view, static_cast<std::uint8_t*>(dst.mutable_data()), out.stride,
                                points.data, points.count, points.stride, mesh_regions, p,
                                arena, &t);
                  wipe_stack(64 << 10);  // the engine's dead frames held face geometry
              }
              py::dict result;
              result["region"] = py::make_tuple(t.x0, t.y0, t.x1, t.y1);
              if (trace && t.x1 > t.x0) {
                  const py::ssize_t h = t.y1 - t.y0, w = t.x1 - t.x0;
                  if (t.warp) result["warp"] = arena_array<float>(arena, t.warp, {h, w, 2});
                  if (t.skin) result["skin"] = arena_array<std::uint8_t>(arena, t.skin, {h, w});
                  if (t.lips) result["lips"] = arena_array<std::uint8_t>(arena, t.lips, {h, w});
                  if (t.eyes) result["eyes"] = arena_array<std::uint8_t>(arena, t.eyes, {h, w});
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
