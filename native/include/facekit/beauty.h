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

struct BeautyParams {
    // Skin, 0..1.
    float smoothing = 0, whitening = 0, rosy = 0, sharpen = 0, dark_circles = 0,
          teeth_whitening = 0;
    // Shape: 0..1, or -1..1 where the control goes both ways.
    float face_slim = 0, v_chin = 0, chin_length = 0, forehead = 0, eye_enlarge = 0,
          eye_distance = 0, nose_slim = 0, mouth_size = 0;
    Makeup lipstick, blush, brow_tint, eyeshadow;
    // 3D colour LUT (size^3 RGB entries, red fastest, as in .cube files), or null.
    const std::uint8_t* lut = nullptr;
    int lut_size = 0;
    float lut_strength = 0;

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
