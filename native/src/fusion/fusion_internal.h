// Internals of face fusion (native/src/fusion/*.cpp): geometry (geometry.cpp), colour
// (colour.cpp), the user's preparation (prepare.cpp), blending (blend.cpp) and the order of
// work (fuse.cpp). It reuses the beauty engine's polygon masks and feathering. Every value
// derived from either face lives in the frame's arena.
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

#include "beauty/beauty_internal.h"
#include "facekit/fusion.h"

namespace facekit::fusion {

using beauty::Frame;
using beauty::Plane;
using beauty::Vec2;

// Throws std::invalid_argument unless every region is a polygon of mesh indices.
void check_regions(const MeshRegions& regions);

// Mesh points (x, y) read from a strided float array into the arena; non-finite refused.
Vec2* read_points(const float* data, int count, int stride, Arena& arena);

// The polygon of `indices` over `points`.
ArenaVector<Vec2> polygon(const Vec2* points, const std::vector<int>& indices, Arena& arena);

// Width of the bounding box of the face oval.
float oval_width(const Vec2* points, const MeshRegions& regions);

// The skin mask: the face oval shrunk toward its centre, less the eyes, brows, lips and nostrils
// (dilated by `soft`), over frame `f`.
Plane skin_mask(const Frame& f, const Vec2* points, const MeshRegions& regions, int soft);

// ---- colour (colour.cpp) --------------------------------------------------------------------

// Lab mean and standard deviation of the RGB pixels of `rgb` (f's size) where `mask` >= 128,
// every `step`th pixel and row. Returns the number of pixels measured (0: `out` untouched).
std::size_t skin_stats(const Frame& f, const std::uint8_t* rgb, const Plane& mask, int step,
                       float out[kFusionSkinStats]);

// A size^3 RGB table (red fastest, kernels::lut3d's layout) that moves colours with statistics
// `from` to statistics `to` in Lab (per channel: (v - mean) * std_to / std_from + mean_to, the
// ratio limited to [0.5, 1]: amplified contrast sharpens stubble, pores and shading edges, clips
// highlights and makes the seam stand out); with `chroma` false, only lightness moves.
inline constexpr int kTransferLutSize = 17;
std::uint8_t* transfer_lut(const float from[kFusionSkinStats], const float to[kFusionSkinStats],
                           bool chroma, Arena& arena);

// ---- geometry (geometry.cpp) ----------------------------------------------------------------

// The geometry both warps share: points 0..467 are the mesh, then the outer ring, then the
// centres of the mesh's three holes (mouth, left eye, right eye).
struct Geometry {
    Vec2* source;  // the template's points
    Vec2* target;  // the fused face's points (the ring is the template's)
    Vec2* user;    // the user's points in texture pixels (the ring unused)
    int points;    // 468 + ring size + 3
    int* ring_triangles;  // 2 per ring point, wound like the mesh (positive area in the template)
    int ring_triangle_count;
    // Fans from each hole's centre to its loop, so that the warps also carry the mouth's
    // interior and the eye openings. Not part of the fold check: a closed mouth's fan is
    // degenerate in the template already.
    int* hole_triangles;
    int hole_triangle_count;
};

// Aligns `user` (texture pixels) to `templ` by a least-squares similarity transform on stable
// points (eye corners, nose bridge, forehead, chin), and interpolates the target geometry
// by `shape`. The ring: the template's face oval pushed out from its centre, mapped to itself.
Geometry build_geometry(const Vec2* templ, const Vec2* user, const MeshRegions& regions,
                        float shape, Arena& arena);

// Places the holes' centres (the mean of each loop) in the source, target and user points;
// after unfold, which moves the loops.
void place_hole_centres(Geometry& g, const MeshRegions& regions);

// Removes folds: while a triangle of `triangles` or of the ring has turned over relative to the
// template (or kept under 5% of its template area), its corners' displacements are halved, up to
// kUnfoldRounds times (after which they are within 2^-24 of the template's fold-free layout).
inline constexpr int kUnfoldRounds = 24;
void unfold(Geometry& g, const int* triangles, int count, Arena& arena);

// Smallest signed area over `triangles` (index triples) of `points`, each sign taken relative
// to the same triangle's orientation in `reference`: a 2D projection of the mesh has slivers
// wound the other way (mouth corners, nose wings, the jaw's sides), and a warp folds only where
// a triangle turns over relative to the template.
float min_signed_area(const Vec2* points, const Vec2* reference, const int* triangles,
                      int count);

// For each pixel of `f` (pixel centres at integer image coordinates) that a triangle of `to`
// covers, the position the barycentric map to `from` gives, minus (ox, oy), written to
// map[2 * pixel]; covered[pixel] set to 255 when non-null. Other pixels keep their values.
void rasterize_map(const Frame& f, const Vec2* to, const Vec2* from, const int* triangles,
                   int count, float ox, float oy, float* map, std::uint8_t* covered);

// rasterize_map into several maps at once (one pass over the triangles' pixels): for each
// target, its `from` points, offset and map; `covered` as above.
struct MapTarget {
    const Vec2* from;
    float ox, oy;
    float* map;
};
void rasterize_maps(const Frame& f, const Vec2* to, const int* triangles, int count,
                    const MapTarget* targets, int target_count, std::uint8_t* covered);

// ---- blending (blend.cpp) -------------------------------------------------------------------

// out = base + the multi-band blend of (top - base) through `alpha` (0..1 per pixel), with
// `levels` pyramid levels; pixels whose alpha is 0 at every level stay exactly `base`.
void multiband(const Frame& f, const std::uint8_t* base, const std::uint8_t* top,
               const float* alpha, int levels, std::uint8_t* out);

// Boundary matching before the blend: where `mask` > 0, `top` (the user's face) moves by a
// smooth membrane that takes, on the mask's edge, the value base - top there (averaged in cells
// of kMembraneCell pixels), 0 from `depth` pixels inside the edge on, and is harmonic between
// (solved on the cells). Then the user's face meets the template's colour and shading at the
// seam, as Poisson cloning makes it do, its inside keeps the transferred skin colour, and the
// multi-band blend only has the texture left to feather.
inline constexpr int kMembraneCell = 8;
void match_boundary(const Frame& f, const std::uint8_t* base, const std::uint8_t* mask,
                    int depth, std::uint8_t* top);

// Poisson blend: out = base + d, where d solves laplacian(d) = laplacian(alpha * (top - base))
// where alpha > 0 and d = 0 elsewhere, started from the multi-band result in `out`.
void poisson(const Frame& f, const std::uint8_t* base, const std::uint8_t* top,
             const float* alpha, int iterations, std::uint8_t* out);

// How far (in pixels) a blend with `levels` levels may reach beyond the alpha's support.
inline int blend_reach(int levels) { return 4 * (1 << levels) + 2; }

}  // namespace facekit::fusion
