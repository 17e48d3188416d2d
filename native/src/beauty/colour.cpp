// Makeup (lipstick, blush, brow tint, eyeshadow) and colour grading (a 3D LUT).
#include <algorithm>

#include "beauty/beauty_internal.h"

namespace facekit::beauty {

namespace {

// A colour laid over the pixel's own shading: hue and saturation from `rgb`, the luminance
// detail of the pixel kept (texture-preserving).
void tinted(const Work& w, const std::uint8_t rgb[3]) {
    const int colour_luma = luma(rgb);
    for (std::size_t i = 0; i < w.pixels; ++i) {
        const int shift = luma(w.image + i * 3) - colour_luma;
        for (int c = 0; c < 3; ++c) w.target[i * 3 + c] = clamp_u8(rgb[c] + shift);
    }
}

void multiplied(const Work& w, const std::uint8_t rgb[3]) {
    for (std::size_t i = 0; i < w.pixels; ++i)
        for (int c = 0; c < 3; ++c)
            w.target[i * 3 + c] = static_cast<std::uint8_t>((w.image[i * 3 + c] * rgb[c] + 127) / 255);
}

void averaged(const Work& w, const std::uint8_t rgb[3]) {
    for (std::size_t i = 0; i < w.pixels; ++i)
        for (int c = 0; c < 3; ++c)
            w.target[i * 3 + c] = static_cast<std::uint8_t>((w.image[i * 3 + c] + rgb[c] + 1) / 2);
}

void lut_target(const Work& w, const std::uint8_t* lut, int size) {
    kernels::lut3d(w.image, w.pixels, lut, size, w.target);
}

}  // namespace

void lipstick(const Context& c, float strength) {
    masked(c.f, c.w, c.masks.lips, strength,
           [&](const Work& part) { tinted(part, c.params.lipstick.rgb); });
}

void blush(const Context& c, float strength) {
    Plane cheeks = c.f.plane();
    fill_disc(c.f, c.mesh[50], 0.11f * c.g.face_width, cheeks);
    fill_disc(c.f, c.mesh[280], 0.11f * c.g.face_width, cheeks);
    subtract(cheeks, c.masks.features);
    feather(c.f, cheeks, 2 * c.soft, 2);
    masked(c.f, c.w, cheeks, 0.6f * strength,
           [&](const Work& part) { averaged(part, c.params.blush.rgb); });
}

void brow_tint(const Context& c, float strength) {
    Plane brows = c.f.plane();
    fill_polygon(c.f, c.polygon(Region::LeftBrow), brows);
    fill_polygon(c.f, c.polygon(Region::RightBrow), brows);
    feather(c.f, brows, std::max(1, c.soft / 3), 1);
    masked(c.f, c.w, brows, 0.7f * strength,
           [&](const Work& part) { tinted(part, c.params.brow_tint.rgb); });
}

void eyeshadow(const Context& c, float strength) {
    const FaceGeometry& g = c.g;
    Plane lids = c.f.plane();
    Plane eyes = c.f.plane();
    for (Region r : {Region::LeftEye, Region::RightEye}) {
        const auto loop = c.polygon(r);
        const Vec2 centre = c.mesh.centre(c.regions[static_cast<int>(r)]);
        // The eye grown upward: a lid band between the eye and the brow.
        fill_polygon(c.f, scaled(loop, centre - g.down * (0.25f * g.eye_width), 1.15f, 2.2f,
                                 g.across, g.down), lids);
        fill_polygon(c.f, loop, eyes);
    }
    dilate(c.f, eyes, std::max(1, c.soft / 2));
    subtract(lids, eyes);
    feather(c.f, lids, c.soft, 2);
    masked(c.f, c.w, lids, 0.7f * strength,
           [&](const Work& part) { multiplied(part, c.params.eyeshadow.rgb); });
}

void lut(const Context& c, float strength) {
    masked(c.f, c.w, c.masks.skin, strength, [&](const Work& part) {
        lut_target(part, c.params.lut_table, c.params.lut_size);
    });
}

}  // namespace facekit::beauty
