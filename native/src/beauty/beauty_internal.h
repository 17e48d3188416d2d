// Internals of the beauty engine (native/src/beauty.cpp and native/src/beauty/*.cpp), shared by
// its parts: masks (masks.cpp), skin effects (skin.cpp), makeup and colour grading
// (colour.cpp), the shape warp (shape.cpp) and the table of effect steps (steps.cpp).
// Every value derived from the landmarks lives in the frame's arena.
#pragma once
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "facekit/arena.h"
#include "facekit/beauty.h"
#include "kernels/beauty_kernels.h"

namespace facekit::beauty {

struct Vec2 {
    float x, y;
};

inline Vec2 operator+(Vec2 a, Vec2 b) { return {a.x + b.x, a.y + b.y}; }
inline Vec2 operator-(Vec2 a, Vec2 b) { return {a.x - b.x, a.y - b.y}; }
inline Vec2 operator*(Vec2 a, float s) { return {a.x * s, a.y * s}; }
inline float length(Vec2 a) { return std::sqrt(a.x * a.x + a.y * a.y); }

// The mesh, read once from the caller's strided array into arena memory.
class Mesh {
public:
    Mesh(const float* landmarks, int stride, Arena& arena);
    Vec2 operator[](int i) const { return points_[i]; }
    Vec2 centre(const std::vector<int>& indices) const {
        Vec2 sum{0, 0};
        for (int i : indices) sum = sum + points_[i];
        return sum * (1.0f / static_cast<float>(indices.size()));
    }

private:
    Vec2* points_;
};

// A single-channel 8-bit plane over the work region.
struct Plane {
    std::uint8_t* data = nullptr;
    int width = 0, height = 0;
    std::size_t size() const { return static_cast<std::size_t>(width) * height; }
};

// Work-region geometry: image pixel (x, y) is plane pixel (x - x0, y - y0).
struct Frame {
    int x0, y0, width, height;
    Arena& arena;
    // Two 32-bit planes of the region's size that every box filter of the frame (feather) reuses,
    // allocated on first use: one pair per frame instead of one per mask.
    mutable std::uint32_t* box_values = nullptr;
    mutable std::uint32_t* box_sums = nullptr;

    // The shared 32-bit scratch planes (0 or 1), region-sized; their contents belong to the
    // caller until the next call of a function that uses them (feather, dilate, build_skin).
    std::uint32_t* box_plane(int k) const {
        if (box_values == nullptr) {
            const std::size_t whole = static_cast<std::size_t>(width) * height;
            box_values = arena.allocate_array<std::uint32_t>(whole);
            box_sums = arena.allocate_array<std::uint32_t>(whole);
        }
        return k == 0 ? box_values : box_sums;
    }

    Plane plane() const {
        Plane p;
        p.width = width;
        p.height = height;
        p.data = arena.allocate_array<std::uint8_t>(p.size());
        return p;
    }
};

// The region's work buffer W and a target buffer T for blends (both RGB, 3 bytes per pixel).
struct Work {
    std::uint8_t* image;
    std::uint8_t* target;
    std::size_t pixels;
};

inline std::uint8_t clamp_u8(int v) { return static_cast<std::uint8_t>(std::clamp(v, 0, 255)); }

inline int q8(float strength) {
    return static_cast<int>(std::lround(std::clamp(strength, 0.0f, 1.0f) * 256.0f));
}

inline int luma(const std::uint8_t* p) { return (77 * p[0] + 150 * p[1] + 29 * p[2] + 128) >> 8; }

// ---- masks (masks.cpp) --------------------------------------------------------------------

// Even-odd scanline fill of a polygon (image coordinates) into `plane`, sampled at pixel
// centres, OR-ed in as 255.
void fill_polygon(const Frame& f, const ArenaVector<Vec2>& polygon, Plane& plane);
ArenaVector<Vec2> polygon_of(const Mesh& mesh, const std::vector<int>& indices, Arena& arena);
// A polygon scaled about `centre` by (su, sv) in the frame of the unit vectors `u`, `v`.
ArenaVector<Vec2> scaled(const ArenaVector<Vec2>& polygon, Vec2 centre, float su, float sv,
                         Vec2 u, Vec2 v);
void fill_disc(const Frame& f, Vec2 centre, float radius, Plane& plane);
// Box-filters a plane in place (radius r, `passes` times: 2 approximates a Gaussian).
void feather(const Frame& f, Plane& plane, int r, int passes);
// Rows [first, last) of `mask` that hold a non-zero byte (first == last when none do).
std::pair<int, int> rows_in_use(const Plane& mask);
// Dilates a 0/255 plane by about r pixels (a box filter, then any coverage counts).
void dilate(const Frame& f, Plane& plane, int r);
// Clears `a` wherever `b` is set.
void subtract(Plane& a, const Plane& b);

// The masks the enabled effects share (null planes where none needs them).
struct Masks {
    Plane face;      // the face oval, feathered (sharpen)
    Plane features;  // eyes, brows, lips and nostrils, dilated
    Plane skin;      // connected skin around the face less its features (skin_model.cpp)
    Plane lips;      // the lips less the mouth opening, feathered
    Plane mouth;     // the mouth opening
    Plane eyes;      // both eye polygons (traces only)
    Plane likelihood;  // the skin likelihood of every pixel (skin_model.cpp)
    Plane occluders;   // non-skin inside the face, grown and feathered (shape warps fade there)
    int skin_luma = 0;  // the skin samples' median luminance (0: no skin model)
};

// Whether the skin mask is needed (the skin tone effects and the 3D LUT use it; `all`: a trace).
inline bool needs_skin(const BeautyParams& p, bool all) {
    return all || p.smoothing > 0 || p.whitening > 0 || p.rosy > 0 ||
           (p.lut_table != nullptr && p.lut > 0);
}

// Builds the masks the enabled effects use (all of them, eyes included, with `all`).
Masks build_masks(const Frame& f, const Mesh& mesh, const MeshRegions& regions,
                  const BeautyParams& params, int soft, bool all);

// ---- the skin model (skin_model.cpp) ---------------------------------------------------------

// The skin mask reaches a third of kSkinRamp face widths beyond the face oval at full weight,
// then falls smoothly to 0 at kSkinRamp (a box filter of the oval): the region grows by
// kSkinReach to hold it.
constexpr float kSkinRamp = 0.25f, kSkinReach = kSkinRamp + 0.02f;

// This frame's skin colour: median and robust spread of its r and g chromaticity (0..255) and
// median luminance, from discs on the cheeks and forehead; invalid when no sample was inside.
struct SkinModel {
    bool valid = false;
    int r = 0, g = 0, spread_r = 1, spread_g = 1, luma = 1;
};

struct FaceGeometry;
SkinModel fit_skin_model(const Frame& f, const Work& w, const Mesh& mesh, const FaceGeometry& g);
// The likelihood (0..255) that each pixel of W is this face's skin, into `out` (a tight colour
// tolerance where `face`, the feathered oval, is 255, a looser one where it is 0), and the same
// by colour alone (dark pixels not excluded) into `colour`.
void skin_likelihood(const Work& w, const SkinModel& m, const Plane& face, Plane& out,
                     Plane& colour);

// Fills masks.likelihood, and masks.skin (connected skin within the reach, features excluded,
// feathered, times the likelihood) when `need_skin`, masks.occluders when `need_occluders`.
void build_skin(const Frame& f, const Work& w, const Mesh& mesh, const MeshRegions& regions,
                const FaceGeometry& g, int soft, bool need_skin, bool need_occluders, Masks& masks);

// ---- blending (masks.cpp) -----------------------------------------------------------------

// The rows [first, last) of a work buffer `width` pixels wide.
Work rows(const Work& w, int width, int first, int last);

// W = blend(W, T) through `mask` at `strength`, over the whole region.
void blend(const Work& w, const Plane& mask, float strength);

// Computes `target` (a function of a Work) on the rows where `mask` is non-zero and blends it
// in there through the mask at `strength`; other rows are not touched at all.
template <typename Target>
void masked(const Frame& f, const Work& w, const Plane& mask, float strength, Target&& target) {
    const int weight = q8(strength);
    if (weight == 0) return;
    const auto [first, last] = rows_in_use(mask);
    if (first == last) return;
    const Work part = rows(w, f.width, first, last);
    target(part);
    kernels::blend(part.image, part.target, mask.data + static_cast<std::size_t>(first) * f.width,
                   weight, part.pixels, 3, part.image);
}

// ---- shape (shape.cpp) --------------------------------------------------------------------

// One local displacement of the inverse map, zero beyond `radius` (smooth: the falloff
// (1 - d^2/radius^2)^2 and its derivative vanish there). Kinds: a translation of the content by
// `shift` (the source of p lies at p - shift * falloff), or a radial scale about `centre`
// (sampling closer to the centre, so enlarging, for scale > 0).
struct Control {
    Vec2 centre;
    float radius;
    Vec2 shift{0, 0};
    float scale = 0;
};

struct FaceGeometry {
    Vec2 eye_left, eye_right;  // centres of the subject's left and right eye loops
    Vec2 mouth, chin, forehead, nose;
    float face_width, eye_width, iod;
    Vec2 across, down;  // unit vectors: along the eye line, and from the eyes to the chin
};

FaceGeometry geometry(const Mesh& mesh, const MeshRegions& regions);

// The controls of every enabled shape effect.
ArenaVector<Control> shape_controls(const Mesh& mesh, const FaceGeometry& g,
                                    const BeautyParams& p, Arena& arena);

// W warped by the controls' inverse map (a new buffer in the arena); the map goes to `trace`.
// Where `occluders` (null plane: nowhere) is set, the displacement fades out (x (255 - o) / 255).
const std::uint8_t* warp(const Frame& f, const Work& w, const ArenaVector<Control>& controls,
                         const Plane& occluders, BeautyTrace* trace);

// ---- effect steps (skin.cpp, colour.cpp; the table in steps.cpp) ---------------------------

// What a step reads: the region, its buffers and masks, the face, and the parameters.
struct Context {
    const Frame& f;
    const Work& w;
    const Mesh& mesh;
    const MeshRegions& regions;
    const FaceGeometry& g;
    const Masks& masks;
    int soft;  // the feathering radius
    const BeautyParams& params;

    ArenaVector<Vec2> polygon(Region r) const {
        return polygon_of(mesh, regions[static_cast<int>(r)], f.arena);
    }
};


// One pixel effect: runs when its strength is above 0.
struct Step {
    float (*strength)(const BeautyParams& p);
    void (*apply)(const Context& c, float strength);
};

// The pixel effects in the order they apply (skin, then makeup, then sharpen and grading).
const std::vector<Step>& steps();

void smoothing(const Context& c, float strength);
void whitening(const Context& c, float strength);
void rosy(const Context& c, float strength);
void dark_circles(const Context& c, float strength);
void teeth_whitening(const Context& c, float strength);
void sharpen(const Context& c, float strength);
void lipstick(const Context& c, float strength);
void blush(const Context& c, float strength);
void brow_tint(const Context& c, float strength);
void eyeshadow(const Context& c, float strength);
void lut(const Context& c, float strength);

}  // namespace facekit::beauty
