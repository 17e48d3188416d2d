// The beauty engine: validation, the face's region, and the order of work.
//
// Order of work, all inside the face's region R (the face oval grown by the skin mask's reach
// when a skin effect is on, and the reach of the shape controls, plus the feathering, clipped
// to the image):
//   1. copy R of the source into a 3-channel work buffer W (RGB order whatever the format);
//   2. rasterize region masks from the mesh polygons and feather them (beauty/masks.cpp); fit
//      this frame's skin colour model and build the skin mask, the skin likelihood and the
//      occluder plane from it (beauty/skin_model.cpp);
//   3. the pixel effects of the step table (beauty/steps.cpp: skin, makeup, sharpen, 3D LUT),
//      each computing a target image and blending it into W through a mask;
//   4. shape: one inverse map over R (identity plus the sum of local, smooth displacements),
//      sampled bilinearly from W into the output (beauty/shape.cpp).
// Each blend leaves a pixel exact where its mask is 0 (a pixel unlike the face's skin, such as
// an occluder, gets 0 in the skin mask), and the map is exactly the identity where no control
// reaches or over an occluder, so pixels no effect touches keep their values bit for bit.
#include "facekit/beauty.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

#include "beauty/beauty_internal.h"
#include "facekit/landmarks.h"

namespace facekit {

using namespace beauty;

namespace {

// Strengths outside their range (or NaN, which every comparison lets through) would push the
// warp past its fold-free bounds and make region bounds undefined.
void check_params(const BeautyParams& p) {
    auto check = [](float value, bool signed_range, const char* name) {
        const float low = signed_range ? -1.0f : 0.0f;
        if (!(value >= low && value <= 1.0f))
            throw std::invalid_argument(std::string(name) + " strength must be a finite number in [" +
                                        (signed_range ? "-1" : "0") + ", 1]");
    };
#define FACEKIT_BEAUTY_EFFECT(name, kind, stage, r, g, b) \
    check(strength_of(p.name), EffectKind::kind == EffectKind::Signed, #name);
#include "facekit/beauty_effects.def"
#undef FACEKIT_BEAUTY_EFFECT
}

}  // namespace

bool BeautyParams::any_shape() const noexcept {
    bool on = false;
#define FACEKIT_BEAUTY_EFFECT(name, kind, stage, r, g, b) \
    on = on || (EffectStage::stage == EffectStage::Shape && strength_of(name) != 0);
#include "facekit/beauty_effects.def"
#undef FACEKIT_BEAUTY_EFFECT
    return on;
}

bool BeautyParams::any() const noexcept {
    bool on = false;
    // The lut row does nothing without its table.
#define FACEKIT_BEAUTY_EFFECT(name, kind, stage, r, g, b) \
    on = on || (strength_of(name) != 0 && (EffectKind::kind != EffectKind::Lut || lut_table));
#include "facekit/beauty_effects.def"
#undef FACEKIT_BEAUTY_EFFECT
    return on;
}

void beautify_face(const ImageView& src, std::uint8_t* dst, std::ptrdiff_t dst_stride,
                   const float* landmarks, int count, int point_stride, const MeshRegions& regions,
                   const BeautyParams& params, Arena& arena, BeautyTrace* trace) {
    validate(src);
    if (src.format == PixelFormat::Gray)
        throw std::invalid_argument("beauty effects need a colour image (RGB, BGR, RGBA or BGRA)");
    if (dst == nullptr) throw std::invalid_argument("no output image");
    if (count < kMeshLandmarks || point_stride < 2)
        throw std::invalid_argument("beauty needs the " + std::to_string(kMeshLandmarks) + "-point mesh, got " + std::to_string(count) + " points");
    // Polygons: the geometry takes centres, extremes and areas of each (a fuzz finding: an empty
    // region read past its end).
    for (const auto& polygon : regions) {
        if (polygon.size() < 3) throw std::invalid_argument("each mesh region needs at least 3 points");
        for (int i : polygon)
            if (i < 0 || i >= kMeshLandmarks) throw std::invalid_argument("mesh region index out of range");
    }
    if (params.lut_table != nullptr && (params.lut_size < 2 || params.lut_size > 256))
        throw std::invalid_argument("3D LUT size must lie in 2..256");
    check_params(params);
    if (!params.any()) return;

    const Mesh mesh(landmarks, point_stride, arena);
    const FaceGeometry g = geometry(mesh, regions);
    const ArenaVector<Control> controls =
        params.any_shape() ? shape_controls(mesh, g, params, arena)
                           : ArenaVector<Control>{ArenaAllocator<Control>(arena)};
    // The region: the face oval and every control's reach, plus the feathering margin; the skin
    // mask reaches further beyond the oval (neck, ears): the oval's margin holds its falloff.
    const bool skin = needs_skin(params, trace != nullptr && trace->masks);
    const bool occluders = params.any_shape();
    const float margin = 0.06f * g.face_width + 2.0f;
    const float oval_margin = skin ? kSkinReach * g.face_width + 2.0f : margin;
    float lo_x = 1e30f, lo_y = 1e30f, hi_x = -1e30f, hi_y = -1e30f;
    for (int i : regions[static_cast<int>(Region::FaceOval)]) {
        lo_x = std::min(lo_x, mesh[i].x - oval_margin), hi_x = std::max(hi_x, mesh[i].x + oval_margin);
        lo_y = std::min(lo_y, mesh[i].y - oval_margin), hi_y = std::max(hi_y, mesh[i].y + oval_margin);
    }
    for (const Control& c : controls) {
        lo_x = std::min(lo_x, c.centre.x - c.radius - margin), hi_x = std::max(hi_x, c.centre.x + c.radius + margin);
        lo_y = std::min(lo_y, c.centre.y - c.radius - margin), hi_y = std::max(hi_y, c.centre.y + c.radius + margin);
    }
    // Clamped as floats (NaN to 0): landmarks far outside the image must not overflow the cast.
    auto inside = [](float v, int size) {
        return v > 0 ? static_cast<int>(std::min(v, static_cast<float>(size))) : 0;
    };
    const int x0 = inside(std::floor(lo_x), src.width);
    const int y0 = inside(std::floor(lo_y), src.height);
    const int x1 = inside(std::ceil(hi_x), src.width);
    const int y1 = inside(std::ceil(hi_y), src.height);
    if (x1 - x0 < 4 || y1 - y0 < 4) return;  // the face lies outside the image
    const Frame f{x0, y0, x1 - x0, y1 - y0, arena};
    if (trace) trace->x0 = x0, trace->y0 = y0, trace->x1 = x1, trace->y1 = y1;

    // 1. The work buffer, RGB.
    const ChannelMap map = rgb_channel_map(src.format);
    const int bpp = bytes_per_pixel(src.format);
    const std::size_t pixels = static_cast<std::size_t>(f.width) * f.height;
    Work w{arena.allocate_array<std::uint8_t>(pixels * 3), arena.allocate_array<std::uint8_t>(pixels * 3), pixels};
    copy_rgb(src, x0, y0, f.width, f.height, w.image);

    // 2. Masks: only those the enabled effects (or a trace asking for masks) use.
    const bool all_masks = trace != nullptr && trace->masks;
    const int soft = std::max(1, static_cast<int>(0.025f * g.face_width));
    Masks masks = build_masks(f, mesh, regions, params, soft, all_masks);
    if (skin || occluders || params.dark_circles > 0)
        build_skin(f, w, mesh, regions, g, soft, skin, occluders, masks);
    if (all_masks)
        trace->skin = masks.skin.data, trace->lips = masks.lips.data, trace->eyes = masks.eyes.data;

    // 3. Skin, makeup, grading.
    const Context context{f, w, mesh, regions, g, masks, soft, params};
    for (const Step& step : steps()) {
        const float strength = step.strength(params);
        if (strength > 0) step.apply(context, strength);
    }

    // 4. Shape, and the write-back.
    const std::uint8_t* result = warp(f, w, controls, masks.occluders, trace);
    for (int y = 0; y < f.height; ++y) {
        std::uint8_t* row = dst + (y + y0) * dst_stride + static_cast<std::ptrdiff_t>(x0) * bpp;
        const std::uint8_t* in = result + static_cast<std::size_t>(y) * f.width * 3;
        for (int x = 0; x < f.width; ++x) {
            row[x * bpp + map.r] = in[x * 3];
            row[x * bpp + map.g] = in[x * 3 + 1];
            row[x * bpp + map.b] = in[x * 3 + 2];
        }
    }
}

}  // namespace facekit
