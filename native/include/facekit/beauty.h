// Beauty effects driven by the 468-point mesh: skin, shape, makeup and colour grading.
//
// Everything here runs on the frame's arena: masks, filter planes and the warp field are
// landmark-derived, so they are allocated from the Arena passed in and wiped with the frame.
// Only the face's region of the output image is written; a pixel that no effect reaches keeps
// its exact value, and all-zero strengths leave the image bit-identical.
#pragma once
#include <array>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "facekit/arena.h"
#include "facekit/image.h"

namespace facekit {

// Closed polygons of mesh indices (facekit/data/mesh_regions.json).
enum class Region : int {
    FaceOval, LipsOuter, LipsInner, LeftEye, RightEye, LeftBrow, RightBrow, Nostrils, Count
};
using MeshRegions = std::array<std::vector<int>, static_cast<int>(Region::Count)>;

struct Makeup {
    float strength = 0.0f;             // 0..1
    std::uint8_t rgb[3] = {0, 0, 0};
};

// The columns of beauty_effects.def.
enum class EffectKind : int { Unsigned, Signed, Makeup, Lut };
enum class EffectStage : int { Skin, Shape, Colour };

// A row's BeautyParams field: a strength, or a strength and a colour for makeup.
template <EffectKind K>
struct EffectField {
    using type = float;
    static constexpr type initial(int, int, int) { return 0.0f; }
};
template <>
struct EffectField<EffectKind::Makeup> {
    using type = Makeup;
    static constexpr type initial(int r, int g, int b) {
        return {0.0f, {static_cast<std::uint8_t>(r), static_cast<std::uint8_t>(g),
                       static_cast<std::uint8_t>(b)}};
    }
};

inline float strength_of(float value) noexcept { return value; }
inline float strength_of(const Makeup& value) noexcept { return value.strength; }

// One field per row of beauty_effects.def (makeup rows default to the row's colour).
struct BeautyParams {
#define FACEKIT_BEAUTY_EFFECT(name, kind, stage, r, g, b) \
    EffectField<EffectKind::kind>::type name = EffectField<EffectKind::kind>::initial(r, g, b);
#include "facekit/beauty_effects.def"
#undef FACEKIT_BEAUTY_EFFECT
    // The `lut` row's 3D colour table (size^3 RGB entries, red fastest, as in .cube files), or
    // null: without it the lut strength does nothing.
    const std::uint8_t* lut_table = nullptr;
    int lut_size = 0;

    bool any_shape() const noexcept;
    bool any() const noexcept;
};

// What beautify_face did, for tests and audits (counts and the region only; no coordinate
// of the face beyond its bounding region).
struct BeautyTrace {
    bool masks = false;                   // in: also build every mask and report it
    int x0 = 0, y0 = 0, x1 = 0, y1 = 0;  // the region written, [x0, x1) x [y0, y1)
    const float* warp = nullptr;          // inverse map (x, y source position per pixel of the
                                          // region, row-major, in the arena) when shape ran
    const std::uint8_t* skin = nullptr;   // feathered masks over the region, in the arena
    const std::uint8_t* lips = nullptr;
    const std::uint8_t* eyes = nullptr;   // both eye polygons, unfeathered (0 or 255)
};

// Applies `params` to the face whose landmarks are `landmarks` (at least 468 points, x and y in
// image pixels, `point_stride` floats apart), reading `src` and writing `dst` (same size and
// format, RGB/BGR/RGBA/BGRA; `dst` must already hold a copy of `src`). Scratch comes from
// `arena`. Throws std::invalid_argument naming a bad argument.
void beautify_face(const ImageView& src, std::uint8_t* dst, std::ptrdiff_t dst_stride,
                   const float* landmarks, int count, int point_stride, const MeshRegions& regions,
                   const BeautyParams& params, Arena& arena, BeautyTrace* trace = nullptr);

}  // namespace facekit
