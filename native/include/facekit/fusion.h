// Face fusion: a user's face, prepared once, fused into a template face by the 468-point mesh.
//
// Everything derived from either face (meshes, the user's texture, colour statistics, warp maps,
// masks, pyramids) lives in the Arena passed in and is wiped with it. Only the template face's
// region (its outer ring's bounding box, grown by the blend margin, clipped to the image) of the
// output is written; shape = features = 0 leaves the output bit-identical.
#pragma once
#include <cstddef>
#include <cstdint>

#include "facekit/arena.h"
#include "facekit/beauty.h"
#include "facekit/image.h"

namespace facekit {

inline constexpr int kFusionMaxTextureSide = 512;  // longer side of a prepared user texture
inline constexpr int kFusionMinFaceWidth = 40;     // face oval width in pixels, user and template
inline constexpr int kFusionSkinStats = 6;         // Lab mean (3) then standard deviation (3)
inline constexpr int kFusionStateSize = 8;         // video state: stats (6), track, phase

// A prepared user face: arena memory, valid until the arena's frame is wiped.
struct FusionUser {
    const std::uint8_t* texture = nullptr;  // RGB, width x height, packed rows
    int width = 0, height = 0;
    const float* mesh = nullptr;  // 468 (x, y) in texture pixels
    const float* skin = nullptr;  // kFusionSkinStats
};

// Crops the user's face (mesh bounding box and a margin), resamples it so that its longer side
// is at most kFusionMaxTextureSide, and measures its skin colour. std::invalid_argument for a
// face narrower than kFusionMinFaceWidth or bad arguments.
FusionUser prepare_fusion_user(const ImageView& src, const float* landmarks, int count,
                               int point_stride, const MeshRegions& regions, Arena& arena);

enum class FusionBlend : int { Multiband, Poisson };

struct FusionParams {
    float shape = 0.0f;     // 0: the template's face shape, 1: the user's (aligned)
    float features = 0.0f;  // 0: the template's appearance, 1: the user's
    bool keep_mouth = true;  // keep the template's mouth interior
    bool keep_eyes = true;   // keep the template's eye openings
    FusionBlend blend = FusionBlend::Multiband;
    float smoothing = 0.0f;  // weight of the past in the video EMA of skin statistics
    int track = 0;           // video: the template face's track id (a new id restarts the EMA)
};

struct FusionTrace {
    bool maps = false;                    // in: also report the mask and the warp map
    int x0 = 0, y0 = 0, x1 = 0, y1 = 0;  // the region written, [x0, x1) x [y0, y1)
    float min_area = 0.0f;                // smallest signed triangle area of the target geometry
    int margin = 0;                       // no pixel farther than this outside the mask's box
                                          // is written
    const std::uint8_t* mask = nullptr;   // region-sized feathered user mask (arena)
    const float* warp = nullptr;          // region-sized inverse map of the template (x, y image
                                          // positions per pixel, arena)
};

// Fuses `user` into the template face `landmarks` (at least 468 points, image pixels,
// `point_stride` floats apart) of `src`, writing `dst` (same size and format, which must already
// hold a copy of `src`). `triangles`: `triangle_count` (a, b, c) mesh indices. `state`: null, or
// kFusionStateSize floats of video state: the smoothed skin statistics, the track they belong to
// and a phase (state[7]: 0 empty, 2 seeded by a track's first frame, 1 smoothing; zeros start
// it). std::invalid_argument names a bad argument.
void fuse_face(const ImageView& src, std::uint8_t* dst, std::ptrdiff_t dst_stride,
               const float* landmarks, int count, int point_stride, const FusionUser& user,
               const int* triangles, int triangle_count, const MeshRegions& regions,
               const FusionParams& params, float* state, Arena& arena,
               FusionTrace* trace = nullptr);

}  // namespace facekit
