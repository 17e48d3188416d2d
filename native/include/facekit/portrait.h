// Portrait background effects: the person's matte from the selfie-segmentation network's mask,
// refined at full resolution by a guided filter, and the effects composited with it. No Python.
#pragma once
#include <cstddef>
#include <cstdint>

#include "facekit/arena.h"
#include "facekit/image.h"

namespace facekit::portrait {

// Side of the selfie-segmentation network's square mask (its input is the whole image resized).
inline constexpr int kMaskSide = 256;

// The grid step of the matte's and the blur's low-resolution work: about 270 rows or columns
// on the image's shorter side (1 for images of up to 405 pixels on that side).
int grid_step(int width, int height) noexcept;

// Temporal smoothing of the network's mask across video frames, in place in `state` (count
// floats, kept in an arena scope that lasts the stream): state = mask on the first frame, then
// state += (1 - keep * (1 - |mask - state|)) * (mask - state): flicker is averaged, a large
// change (motion) followed at once. A repeated frame leaves a settled state unchanged.
// `keep` lies in [0, 1).
void smooth_mask(const float* mask, float* state, std::size_t count, float keep, bool first);

// The person's matte, width x height bytes (255: person) allocated in `arena`: `mask`
// (kMaskSide^2 floats in [0, 1], the network's probability over the whole image) refined by a
// fast guided filter: coefficients on the grid_step() grid, guided by the image's green
// channel (a pixel's second byte; the first of a gray image), spread back bilinearly and applied
// to the full-resolution guide, so the matte follows the image's own edges (hair included);
// levels up to 32 become 0 and from 223 become 255 (the filter's faint fringe and near-certain
// person), stretched linearly between.
// Throws std::invalid_argument for a bad image.
std::uint8_t* matte(const ImageView& image, const float* mask, Arena& arena);

enum class Effect : std::uint8_t { None, Blur, Color, Image, Cutout };

struct Compose {
    Effect effect = Effect::None;
    float blur = 0.0f;               // Blur: strength in (0, 1]
    std::uint8_t color[4] = {0, 0, 0, 255};  // Color: in the image's own channel order
    ImageView background;            // Image: same channel count as the image, any size
};

// The effect applied to `image` with `matte` (from matte()), as a new image allocated in
// `arena`: width x height x channels bytes (Cutout: x 4 (the colour channels in the image's
// order, then the matte as alpha). None copies the image; Blur blurs the background by a
// normalized convolution weighted by (255 - matte)^2 (two box passes on the grid, radius up to
// 1/40 of the longer side of the grid at strength 1), so the person's colours do not bleed into
// it; Color and Image replace it. The background is blended in where the matte is below 255; a
// pixel of matte 255 keeps its value exactly, one of matte 0 takes
// the background's exactly. Throws std::invalid_argument for bad arguments.
std::uint8_t* compose(const ImageView& image, const std::uint8_t* matte, const Compose& how,
                      Arena& arena);

}  // namespace facekit::portrait
