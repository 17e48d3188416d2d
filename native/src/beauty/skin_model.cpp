// The skin model: a colour model fitted on this frame's own skin (discs on the cheeks and the
// forehead, from the mesh), evaluated over the face's region and beyond it, giving
//   - the skin likelihood L (0..255) of every pixel of the region: how much its chromaticity
//     (r, g of r + g + b: independent of luminance, so shadow does not change it) looks like
//     the samples' (median and MAD per axis: a beard, a shadow or makeup on part of the
//     samples moves neither), dark pixels (hair, nostrils) excluded;
//   - the skin mask: pixels with L >= 128 connected to the face oval's skin (a flood fill, so
//     skin-coloured background is not skin), within a reach around the oval that ends in a
//     smooth falloff, less the mouth, eyes, brows and nostrils, feathered, then multiplied by L
//     (an occluder, L = 0, gets exactly 0);
//   - the occluder plane: pixels inside the face oval, outside its features, that do not look
//     like skin (a hand of another tone, a microphone, glasses), as blobs of at least a few
//     pixels, grown and feathered: the shape warp fades out over it.
// Every plane lives in the frame's arena.
#include <algorithm>
#include <cmath>
#include <cstring>

#include "beauty/beauty_internal.h"

namespace facekit::beauty {

namespace {

// Mesh points on the cheeks and forehead (away from brows, eyes, nostrils and the hairline).
constexpr int kSamplePoints[] = {50, 280, 101, 330, 205, 425, 117, 346, 151, 108, 337, 9};

// r and g chromaticity, 0..255, exactly as the skin_likelihood kernel computes them.
struct Chroma {
    void operator()(const std::uint8_t* p, int& cr, int& cg) const {
        const int s = p[0] + p[1] + p[2];
        if (s == 0) {
            cr = cg = 0;
            return;
        }
        const float inv = 255.0f / static_cast<float>(s);
        cr = static_cast<int>(std::floor(static_cast<float>(p[0]) * inv + 0.5f));
        cg = static_cast<int>(std::floor(static_cast<float>(p[1]) * inv + 0.5f));
    }
};

const Chroma& chroma() {
    static const Chroma table;
    return table;
}

// The value below which `fraction` of a histogram's total count lies.
int quantile(const std::uint32_t* histogram, int bins, std::uint64_t total, double fraction) {
    const std::uint64_t target = static_cast<std::uint64_t>(static_cast<double>(total) * fraction);
    std::uint64_t seen = 0;
    for (int v = 0; v < bins; ++v) {
        seen += histogram[v];
        if (seen > target) return v;
    }
    return bins - 1;
}

struct Axis {
    int median = 0, spread = 1;
};

// Median and MAD (scaled to a standard deviation) of a histogram over 0..255.
Axis robust(const std::uint32_t* histogram, std::uint64_t total, int floor) {
    Axis a;
    a.median = quantile(histogram, 256, total, 0.5);
    std::uint32_t deviations[256] = {};
    for (int v = 0; v < 256; ++v) deviations[std::abs(v - a.median)] += histogram[v];
    const int mad = quantile(deviations, 256, total, 0.5);
    a.spread = std::max(floor, static_cast<int>(std::lround(1.4826 * mad)));
    return a;
}

// Box filter of a plane (radius r, once) then a threshold: erosion (`full`: every pixel of the
// window set) or dilation (any pixel set), on a 0/255 plane.
void morph(const Frame& f, Plane& plane, int r, bool erode) {
    if (r < 1) return;
    if (!erode) return dilate(f, plane, r);
    feather(f, plane, r, 1);
    for (std::size_t i = 0; i < plane.size(); ++i) plane.data[i] = plane.data[i] >= 250 ? 255 : 0;
}

}  // namespace

SkinModel fit_skin_model(const Frame& f, const Work& w, const Mesh& mesh, const FaceGeometry& g) {
    auto* hist = f.arena.allocate_array<std::uint32_t>(3 * 256);
    std::uint32_t *hr = hist, *hg = hist + 256, *hy = hist + 512;
    std::uint64_t total = 0;
    const float radius = std::max(2.0f, 0.04f * g.face_width);
    const Chroma& c = chroma();
    for (int index : kSamplePoints) {
        const Vec2 centre = mesh[index];
        const int cx = static_cast<int>(std::floor(centre.x)) - f.x0;
        const int cy = static_cast<int>(std::floor(centre.y)) - f.y0;
        const int r = static_cast<int>(radius);
        for (int y = std::max(0, cy - r); y <= std::min(f.height - 1, cy + r); ++y)
            for (int x = std::max(0, cx - r); x <= std::min(f.width - 1, cx + r); ++x) {
                if ((x - cx) * (x - cx) + (y - cy) * (y - cy) > r * r) continue;
                const std::uint8_t* p = w.image + (static_cast<std::size_t>(y) * f.width + x) * 3;
                int cr, cg;
                c(p, cr, cg);
                ++hr[cr], ++hg[cg], ++hy[luma(p)];
                ++total;
            }
    }
    SkinModel m;
    if (total < 16) return m;  // the face lies (almost) outside the image: no model
    Axis r = robust(hr, total, 4), gg = robust(hg, total, 4);
    // Once more on the samples within 3 spreads of the medians on both axes (a hand or a
    // microphone over some of the discs would otherwise widen the spread).
    auto* joint = f.arena.allocate_array<std::uint32_t>(2 * 256);
    std::uint64_t kept = 0;
    for (int index : kSamplePoints) {
        const Vec2 centre = mesh[index];
        const int cx = static_cast<int>(std::floor(centre.x)) - f.x0;
        const int cy = static_cast<int>(std::floor(centre.y)) - f.y0;
        const int rad = static_cast<int>(radius);
        for (int y = std::max(0, cy - rad); y <= std::min(f.height - 1, cy + rad); ++y)
            for (int x = std::max(0, cx - rad); x <= std::min(f.width - 1, cx + rad); ++x) {
                if ((x - cx) * (x - cx) + (y - cy) * (y - cy) > rad * rad) continue;
                int cr, cg;
                c(w.image + (static_cast<std::size_t>(y) * f.width + x) * 3, cr, cg);
                if (std::abs(cr - r.median) > 3 * r.spread || std::abs(cg - gg.median) > 3 * gg.spread) continue;
                ++joint[cr], ++joint[256 + cg];
                ++kept;
            }
    }
    if (kept >= 16) r = robust(joint, kept, 4), gg = robust(joint + 256, kept, 4);
    m.valid = true;
    m.r = r.median, m.g = gg.median, m.spread_r = r.spread, m.spread_g = gg.spread;
    m.luma = std::max(1, quantile(hy, 256, total, 0.5));
    return m;
}

// L: 255 within 3 spreads (L1 over both axes) of the model, falling linearly to 0 at 5 spreads
// inside the face (`face`: 255 inside the oval), and within 5 falling to 0 at 8 beyond it (the
// neck and ears are lit differently: a shadow there shifts the chromaticity); dark pixels (below
// 15% of the samples' median luminance, ramping up to 30%) are 0. Per pixel, unfiltered: a pixel
// of an occluder (far from the model) gets exactly 0. The kernel skin_likelihood computes it.
void skin_likelihood(const Work& w, const SkinModel& m, const Plane& face, Plane& out,
                     Plane& colour) {
    kernels::SkinColour c{};
    c.r = static_cast<float>(m.r), c.g = static_cast<float>(m.g);
    c.scale_r = 1.0f / static_cast<float>(m.spread_r), c.scale_g = 1.0f / static_cast<float>(m.spread_g);
    c.zero_in = 5.0f, c.ramp_in = 1.0f / (5.0f - 3.0f);
    c.zero_out = 8.0f, c.ramp_out = 1.0f / (8.0f - 5.0f);
    const float lo = 0.15f * static_cast<float>(m.luma), hi = 0.30f * static_cast<float>(m.luma);
    c.dark_lo = lo, c.dark_ramp = 1.0f / std::max(hi - lo, 1.0f);
    kernels::skin_likelihood(w.image, face.data, w.pixels, c, out.data, colour.data);
}

// Beside the face above the mouth (temples, ears, sideburns), what looks like skin by colour but
// is much darker than the face is hair (red or brown hair shares skin's chromaticity): beyond
// the oval there, pixels below 45% of the samples' median luminance get none, ramping up to
// full at 65%. Below the mouth the neck keeps the looser rule (it is often in shadow), and a
// ramp of 0.1 face widths between the two leaves no edge.
void exclude_hair(const Frame& f, const Work& w, const SkinModel& m, const FaceGeometry& g,
                  const Plane& face, Plane& likelihood, Plane& colour) {
    const float lo = 0.45f * static_cast<float>(m.luma), hi = 0.65f * static_cast<float>(m.luma);
    const float inv_ramp = 1.0f / std::max(hi - lo, 1.0f);
    const float inv_band = 1.0f / std::max(0.1f * g.face_width, 1.0f);
    // How far above the mouth, in bands: linear in x along a row (a + x * step), clamped.
    const float step = -g.down.x * inv_band;
    for (int y = 0; y < f.height; ++y) {
        const std::size_t row = static_cast<std::size_t>(y) * f.width;
        const Vec2 start = Vec2{static_cast<float>(f.x0) + 0.5f, static_cast<float>(y + f.y0) + 0.5f} - g.mouth;
        const float a0 = -(start.x * g.down.x + start.y * g.down.y) * inv_band;
        for (int x = 0; x < f.width; ++x) {
            const std::size_t i = row + x;
            if (face.data[i] == 255 || colour.data[i] == 0) continue;
            const float above = std::clamp(a0 + static_cast<float>(x) * step, 0.0f, 1.0f);
            if (above == 0.0f) continue;
            const float lit = std::clamp((static_cast<float>(luma(w.image + 3 * i)) - lo) * inv_ramp, 0.0f, 1.0f);
            const float beyond = static_cast<float>(255 - face.data[i]) * (1.0f / 255.0f);
            const float keep = 1.0f - above * beyond * (1.0f - lit);
            likelihood.data[i] = static_cast<std::uint8_t>(static_cast<float>(likelihood.data[i]) * keep + 0.5f);
            colour.data[i] = static_cast<std::uint8_t>(static_cast<float>(colour.data[i]) * keep + 0.5f);
        }
    }
}

void build_skin(const Frame& f, const Work& w, const Mesh& mesh, const MeshRegions& regions,
                const FaceGeometry& g, int soft, bool need_skin, bool need_occluders, Masks& s) {
    const SkinModel model = fit_skin_model(f, w, mesh, g);
    if (model.valid) s.skin_luma = model.luma;
    // One box filter of the oval (radius kSkinRamp face widths) gives both smooth planes: the
    // reach (255 out to a third of the radius beyond the oval, 0 at the radius) and the face
    // (255 inside the oval, 0 from a quarter of the radius outside it).
    Plane spread = f.plane();
    fill_polygon(f, polygon_of(mesh, regions[static_cast<int>(Region::FaceOval)], f.arena), spread);
    Plane oval = f.plane();
    std::memcpy(oval.data, spread.data, spread.size());
    feather(f, spread, std::max(1, static_cast<int>(kSkinRamp * g.face_width)), 1);
    Plane face = f.plane();
    for (std::size_t i = 0; i < face.size(); ++i)
        face.data[i] = clamp_u8(8 * (spread.data[i] - 128) + 255);
    s.likelihood = f.plane();
    Plane colour = f.plane();  // the likelihood by colour alone (shadows kept)
    if (model.valid) {
        skin_likelihood(w, model, face, s.likelihood, colour);
        exclude_hair(f, w, model, g, face, s.likelihood, colour);
    }
    if (need_skin) {
        Plane reach_plane = spread;
        for (std::size_t i = 0; i < reach_plane.size(); ++i)
            reach_plane.data[i] = clamp_u8(3 * reach_plane.data[i]);
        // Connected skin: a flood fill (4-neighbours) from the oval's skin through pixels whose
        // colour likelihood is >= 128 inside the reach (through the shadow under the jaw too).
        const std::size_t n = w.pixels;
        Plane connected = f.plane();
        std::uint32_t* queue = f.box_plane(0);  // free between box filters
        std::size_t head = 0, tail = 0;
        for (std::size_t i = 0; i < n; ++i)
            if (oval.data[i] && colour.data[i] >= 128) connected.data[i] = 255, queue[tail++] = static_cast<std::uint32_t>(i);
        const int width = f.width;
        auto visit = [&](std::size_t j) {
            if (!connected.data[j] && colour.data[j] >= 128 && reach_plane.data[j]) {
                connected.data[j] = 255;
                queue[tail++] = static_cast<std::uint32_t>(j);
            }
        };
        while (head < tail) {
            const std::size_t i = queue[head++];
            const int x = static_cast<int>(i % width);
            if (x > 0) visit(i - 1);
            if (x + 1 < width) visit(i + 1);
            if (i >= static_cast<std::size_t>(width)) visit(i - width);
            if (i + width < n) visit(i + width);
        }
        s.skin = connected;
        kernels::mask_product(s.skin.data, reach_plane.data, n, s.skin.data);
        subtract(s.skin, s.features);
        feather(f, s.skin, soft, 2);
        kernels::mask_product(s.skin.data, s.likelihood.data, n, s.skin.data);
    }
    if (need_occluders && model.valid) {
        // Inside the oval (shrunk, so the background beside the jaw is not an occluder), outside
        // the features: pixels that do not look like skin, in blobs wider than a few pixels.
        Plane zone = f.plane();
        const Vec2 centre = mesh.centre(regions[static_cast<int>(Region::FaceOval)]);
        fill_polygon(f, scaled(polygon_of(mesh, regions[static_cast<int>(Region::FaceOval)], f.arena),
                               centre, 0.9f, 0.9f, g.across, g.down), zone);
        Plane features = f.plane();
        for (Region r : {Region::LeftEye, Region::RightEye, Region::LeftBrow, Region::RightBrow,
                         Region::LipsOuter, Region::Nostrils})
            fill_polygon(f, polygon_of(mesh, regions[static_cast<int>(r)], f.arena), features);
        dilate(f, features, 2 * soft);
        subtract(zone, features);
        s.occluders = f.plane();
        for (std::size_t i = 0; i < w.pixels; ++i)
            s.occluders.data[i] = zone.data[i] && s.likelihood.data[i] < 128 ? 255 : 0;
        const int small = std::max(1, static_cast<int>(0.015f * g.face_width));
        morph(f, s.occluders, small, true);
        const int fade = std::max(1, static_cast<int>(0.04f * g.face_width));
        morph(f, s.occluders, small + 2 * fade + 1, false);
        feather(f, s.occluders, fade, 2);
    }
}

}  // namespace facekit::beauty
