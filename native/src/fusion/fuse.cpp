// Fusing a prepared user face into a template face: validation, the region, the order of work.
//
// Order of work, inside the region R (the outer ring's box and the blend's reach around the
// mask, clipped to the image):
//   1. geometry: the user's mesh aligned to the template's, the target geometry (shape), the
//      ring, and the displacements halved where a triangle would turn over (geometry.cpp);
//      the smallest signed triangle area (relative to the template's winding) is the fold check;
//   2. the template's R warped to the target geometry (identity when shape is 0), the mesh's
//      holes (mouth, eyes) carried along by fans from their centres;
//   3. the mask: the target face oval, shrunk inside the jaw line and hairline, less the mouth
//      opening and eyes when kept, feathered, times `features`;
//   4. inside the mask's box, the user's texture warped to the target geometry, its skin moved
//      to the template's skin colour in Lab and its eyes, brows and lips to the template's
//      lighting (3D tables through kernels::lut3d);
//   4b. the user's face moved by a smooth membrane so that it meets the template's colour and
//      shading on the mask's edge (blend.cpp's match_boundary);
//   5. the multi-band (or Poisson) blend of the user's face into the warped template, written
//      back. Pixels the blend's weights never reach keep the warped template; outside the ring
//      that is the template itself, bit for bit.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <stdexcept>
#include <string>
#include <utility>

#include "facekit/landmarks.h"
#include "fusion/fusion_internal.h"
#include "kernels/beauty_kernels.h"

namespace facekit {

using namespace fusion;

namespace {

void check_params(const FusionParams& p) {
    auto unit = [](float v, const char* name) {
        if (!(v >= 0.0f && v <= 1.0f))
            throw std::invalid_argument(std::string(name) + " must be a finite number in [0, 1]");
    };
    unit(p.shape, "shape");
    unit(p.features, "features");
    unit(p.smoothing, "smoothing");
    if (p.blend != FusionBlend::Multiband && p.blend != FusionBlend::Poisson)
        throw std::invalid_argument("blend must be multiband or poisson");
}

void check_user(const FusionUser& u) {
    if (u.texture == nullptr || u.mesh == nullptr || u.skin == nullptr || u.width < 8 ||
        u.height < 8 || u.width > kFusionMaxTextureSide || u.height > kFusionMaxTextureSide)
        throw std::invalid_argument("texture must be a prepared user texture (8.." +
                                    std::to_string(kFusionMaxTextureSide) + " pixels a side)");
    for (int i = 0; i < 2 * kMeshLandmarks; ++i)
        if (!std::isfinite(u.mesh[i])) throw std::invalid_argument("mesh holds a non-finite coordinate");
    for (int i = 0; i < kFusionSkinStats; ++i)
        if (!std::isfinite(u.skin[i])) throw std::invalid_argument("skin holds a non-finite value");
}

Vec2 oval_centre(const Vec2* points, const std::vector<int>& oval) {
    Vec2 c{0, 0};
    for (int i : oval) c = c + points[i];
    return c * (1.0f / static_cast<float>(oval.size()));
}

}  // namespace

void fuse_face(const ImageView& src, std::uint8_t* dst, std::ptrdiff_t dst_stride,
               const float* landmarks, int count, int point_stride, const FusionUser& user,
               const int* triangles, int triangle_count, const MeshRegions& regions,
               const FusionParams& params, float* state, Arena& arena, FusionTrace* trace) {
    validate(src);
    if (src.format == PixelFormat::Gray)
        throw std::invalid_argument("fusion needs a colour image (RGB, BGR, RGBA or BGRA)");
    if (dst == nullptr) throw std::invalid_argument("no output image");
    if (landmarks == nullptr || count < kMeshLandmarks || point_stride < 2)
        throw std::invalid_argument("fusion needs the " + std::to_string(kMeshLandmarks) +
                                    "-point mesh, got " + std::to_string(count) + " points");
    check_regions(regions);
    check_params(params);
    check_user(user);
    if (triangles == nullptr || triangle_count < 1)
        throw std::invalid_argument("triangles must hold at least one triangle");
    for (int i = 0; i < 3 * triangle_count; ++i)
        if (triangles[i] < 0 || triangles[i] >= kMeshLandmarks)
            throw std::invalid_argument("triangle index out of range");
    if (state != nullptr && !(state[7] == 0.0f || state[7] == 1.0f || state[7] == 2.0f))
        throw std::invalid_argument("state must be a fusion state array (last value 0, 1 or 2)");

    // 1. Geometry.
    const Vec2* templ = read_points(landmarks, kMeshLandmarks, point_stride, arena);
    const float face_width = oval_width(templ, regions);
    if (!(face_width >= static_cast<float>(kFusionMinFaceWidth)))
        throw std::invalid_argument("the template face is too small: fusion needs a face at least " +
                                    std::to_string(kFusionMinFaceWidth) + " pixels wide");
    const Vec2* user_mesh = read_points(user.mesh, kMeshLandmarks, 2, arena);
    Geometry g = build_geometry(templ, user_mesh, regions, params.shape, arena);
    unfold(g, triangles, triangle_count, arena);
    place_hole_centres(g, regions);
    const float min_area =
        std::min(min_signed_area(g.target, g.source, triangles, triangle_count),
                 min_signed_area(g.target, g.source, g.ring_triangles, g.ring_triangle_count));
    if (trace) trace->min_area = min_area;

    // The mask's polygon: the target oval shrunk toward its centre, more from the hairline.
    const auto& oval = regions[static_cast<int>(Region::FaceOval)];
    const Vec2 centre = oval_centre(g.target, oval);
    const ArenaVector<Vec2> mask_polygon = beauty::scaled(polygon(g.target, oval, arena), centre,
                                                          0.9f, 0.88f, {1, 0}, {0, 1});
    // Pyramid levels: the coarsest band's pixel is at most 1/24 of the face's width. The
    // membrane (match_boundary) already joins the low frequencies at the seam, so a level more
    // only widens the region (its reach doubles) without a smoother seam (measured).
    const int levels = std::clamp(static_cast<int>(std::log2(face_width / 24.0f)), 2, 5);
    const int reach = blend_reach(levels);
    const int soft = std::max(2, static_cast<int>(0.04f * face_width));
    float lo_x = 1e30f, lo_y = 1e30f, hi_x = -1e30f, hi_y = -1e30f;
    for (Vec2 p : mask_polygon) {
        lo_x = std::min(lo_x, p.x), hi_x = std::max(hi_x, p.x);
        lo_y = std::min(lo_y, p.y), hi_y = std::max(hi_y, p.y);
    }
    // The feathering (two box passes of radius `soft`) and the pyramid's reach beyond it.
    const float spread = static_cast<float>(reach + 2 * soft + 2);
    float rlo_x = lo_x - spread, rlo_y = lo_y - spread;
    float rhi_x = hi_x + spread, rhi_y = hi_y + spread;
    for (int i = kMeshLandmarks; i < g.points; ++i) {
        rlo_x = std::min(rlo_x, g.source[i].x - 1), rhi_x = std::max(rhi_x, g.source[i].x + 1);
        rlo_y = std::min(rlo_y, g.source[i].y - 1), rhi_y = std::max(rhi_y, g.source[i].y + 1);
    }
    const int margin = static_cast<int>(std::ceil(std::max({lo_x - rlo_x, lo_y - rlo_y, rhi_x - hi_x, rhi_y - hi_y}))) + 1;
    if (trace) trace->margin = margin;
    if (params.shape == 0.0f && params.features == 0.0f) return;  // the template as it is
    auto inside = [](float v, int size) {
        return v > 0 ? static_cast<int>(std::min(v, static_cast<float>(size))) : 0;
    };
    const int x0 = inside(std::floor(rlo_x), src.width), y0 = inside(std::floor(rlo_y), src.height);
    const int x1 = inside(std::ceil(rhi_x), src.width), y1 = inside(std::ceil(rhi_y), src.height);
    if (x1 - x0 < 4 || y1 - y0 < 4) return;  // the face lies outside the image
    const Frame f{x0, y0, x1 - x0, y1 - y0, arena};
    const std::size_t pixels = static_cast<std::size_t>(f.width) * f.height;
    if (trace) trace->x0 = x0, trace->y0 = y0, trace->x1 = x1, trace->y1 = y1;

    // 2. The template's region, warped to the target geometry.
    auto* base = arena.allocate_array<std::uint8_t>(pixels * 3);
    copy_rgb(src, x0, y0, f.width, f.height, base);
    const std::uint8_t* warped = base;
    const bool traced = trace && trace->maps;
    const bool want_map = params.shape > 0.0f || traced;
    const bool want_user = params.features > 0.0f || traced;
    // The maps cover the box of the target points (mf, at (mx, my) in the region): no triangle
    // reaches past it, and the region's identity elsewhere needs no map (bilinear sampling at
    // integer positions returns the pixel exactly). Traced, they cover the whole region.
    float tx0 = 1e30f, ty0 = 1e30f, tx1 = -1e30f, ty1 = -1e30f;
    for (int i = 0; i < g.points; ++i) {
        tx0 = std::min(tx0, g.target[i].x), tx1 = std::max(tx1, g.target[i].x);
        ty0 = std::min(ty0, g.target[i].y), ty1 = std::max(ty1, g.target[i].y);
    }
    const int mx = traced ? 0 : std::clamp(static_cast<int>(std::floor(tx0)) - x0, 0, f.width - 1);
    const int my = traced ? 0 : std::clamp(static_cast<int>(std::floor(ty0)) - y0, 0, f.height - 1);
    const int mx1 = traced ? f.width : std::clamp(static_cast<int>(std::ceil(tx1)) + 1 - x0, mx + 1, f.width);
    const int my1 = traced ? f.height : std::clamp(static_cast<int>(std::ceil(ty1)) + 1 - y0, my + 1, f.height);
    const Frame mf{x0 + mx, y0 + my, mx1 - mx, my1 - my, arena};
    const std::size_t map_pixels = static_cast<std::size_t>(mf.width) * mf.height;
    float* map = nullptr;
    // Step 3's map of the user's texture, filled here along with the template's where both are
    // needed (the mesh's and holes' passes then run once).
    float* user_map = want_user ? arena.allocate_array<float>(map_pixels * 2) : nullptr;
    auto* covered = want_user ? arena.allocate_array<std::uint8_t>(map_pixels) : nullptr;
    bool user_mapped = false;
    if (want_map) {
        map = arena.allocate_array<float>(map_pixels * 2);
        for (int y = 0; y < mf.height; ++y)
            for (int x = 0; x < mf.width; ++x) {
                const std::size_t i = static_cast<std::size_t>(y) * mf.width + x;
                map[2 * i] = static_cast<float>(x + mx), map[2 * i + 1] = static_cast<float>(y + my);
            }
    }
    if (params.shape > 0.0f) {
        const float ox = static_cast<float>(x0), oy = static_cast<float>(y0);
        const MapTarget both[] = {{g.user, 0.0f, 0.0f, user_map}, {g.source, ox, oy, map}};
        const MapTarget* targets = want_user ? both : both + 1;
        const int n = want_user ? 2 : 1;
        rasterize_maps(mf, g.target, triangles, triangle_count, targets, n, covered);
        rasterize_map(mf, g.target, g.source, g.ring_triangles, g.ring_triangle_count, ox, oy, map, nullptr);
        rasterize_maps(mf, g.target, g.hole_triangles, g.hole_triangle_count, targets, n, covered);
        user_mapped = want_user;
        auto* out = arena.allocate_array<std::uint8_t>(pixels * 3);
        std::memcpy(out, base, pixels * 3);
        for (int y = 0; y < mf.height; ++y) {
            const std::size_t at = static_cast<std::size_t>(y + my) * f.width + mx;
            kernels::remap_bilinear(base, f.width, f.height, static_cast<std::ptrdiff_t>(f.width) * 3,
                                    3, map + 2 * static_cast<std::size_t>(y) * mf.width,
                                    static_cast<std::size_t>(mf.width), out + 3 * at);
        }
        warped = out;
    }
    if (trace && trace->maps) {
        for (std::size_t i = 0; i < pixels; ++i)
            map[2 * i] += static_cast<float>(x0), map[2 * i + 1] += static_cast<float>(y0);
        trace->warp = map;
    }

    const std::uint8_t* result = warped;
    if (want_user) {
        // 3. Where the user's texture lands on the target geometry, and the mask.
        if (!user_mapped) {
            rasterize_map(mf, g.target, g.user, triangles, triangle_count, 0.0f, 0.0f, user_map, covered);
            rasterize_map(mf, g.target, g.user, g.hole_triangles, g.hole_triangle_count, 0.0f, 0.0f,
                          user_map, covered);
        }
        Plane mask = f.plane();
        beauty::fill_polygon(f, mask_polygon, mask);
        Plane kept = f.plane();
        if (params.keep_mouth)
            beauty::fill_polygon(f, polygon(g.target, regions[static_cast<int>(Region::LipsInner)], arena), kept);
        if (params.keep_eyes)
            for (Region r : {Region::LeftEye, Region::RightEye})
                beauty::fill_polygon(f, polygon(g.target, regions[static_cast<int>(r)], arena), kept);
        const bool keep = params.keep_mouth || params.keep_eyes;
        if (keep) {
            beauty::dilate(f, kept, std::max(1, soft / 3));
            beauty::subtract(mask, kept);
        }
        for (int y = 0; y < f.height; ++y) {  // 0 where no triangle covers (all outside mf)
            std::uint8_t* row = mask.data + static_cast<std::size_t>(y) * f.width;
            if (y < my || y >= my + mf.height) {
                std::memset(row, 0, static_cast<std::size_t>(f.width));
                continue;
            }
            std::memset(row, 0, static_cast<std::size_t>(mx));
            std::memset(row + mx + mf.width, 0, static_cast<std::size_t>(f.width - mx - mf.width));
            const std::uint8_t* cov = covered + static_cast<std::size_t>(y - my) * mf.width;
            std::uint8_t* inside = row + mx;
            for (int x = 0; x < mf.width; ++x) inside[x] = cov[x] ? inside[x] : 0;
        }
        beauty::feather(f, mask, soft, 2);
        if (traced) trace->mask = mask.data;

        if (params.features > 0.0f) {
            // 4. The user's texture on the target geometry, in the template's skin colour, inside
            // the mask's box; elsewhere (and wherever the mask is 0) top = the warped template,
            // so the blended difference is 0 there and no user background leaks in.
            int bx0 = f.width, bx1 = 0, by0 = f.height, by1 = 0;
            for (int y = 0; y < f.height; ++y) {
                const std::uint8_t* row = mask.data + static_cast<std::size_t>(y) * f.width;
                for (int x = 0; x < f.width; ++x)
                    if (row[x]) bx0 = std::min(bx0, x), bx1 = std::max(bx1, x + 1), by0 = std::min(by0, y), by1 = y + 1;
            }
            auto* top = arena.allocate_array<std::uint8_t>(pixels * 3);
            std::memcpy(top, warped, pixels * 3);
            float stats[kFusionSkinStats];
            const Plane skin = skin_mask(f, templ, regions, soft);
            if (skin_stats(f, base, skin, 2, stats) == 0)
                std::memcpy(stats, user.skin, sizeof stats);  // no skin visible: no colour change
            if (state != nullptr) {
                // A track's first frame has landmarks from the detector's coarser ROI; its
                // statistics serve that frame only and the next (tracked) frame's replace them,
                // so a still clip settles at once. Then an EMA, written as a step towards the
                // new value so that an unchanged value leaves the state bit for bit as it was.
                const float track = static_cast<float>(params.track);
                const bool fresh = state[7] == 0.0f || state[6] != track;
                const float step = fresh || state[7] == 2.0f ? 1.0f : 1.0f - params.smoothing;
                for (int k = 0; k < kFusionSkinStats; ++k)
                    state[k] = step == 1.0f ? stats[k] : state[k] + step * (stats[k] - state[k]),
                    stats[k] = state[k];
                state[6] = track;
                state[7] = fresh ? 2.0f : 1.0f;
            }
            if (bx1 > bx0) {
                // Skin takes the template's skin colour; the user's eyes, brows and lips keep
                // their own and take only its lighting (else eye whites turn skin-tinted).
                const std::uint8_t* skin_lut = transfer_lut(user.skin, stats, true, arena);
                const std::uint8_t* light_lut = transfer_lut(user.skin, stats, false, arena);
                Plane features = f.plane();
                for (Region r : {Region::LeftEye, Region::RightEye, Region::LeftBrow,
                                 Region::RightBrow, Region::LipsOuter})
                    beauty::fill_polygon(f, polygon(g.target, regions[static_cast<int>(r)], arena), features);
                beauty::feather(f, features, std::max(1, soft / 2), 2);
                const std::size_t bw = static_cast<std::size_t>(bx1 - bx0);
                auto* sampled = arena.allocate_array<std::uint8_t>(bw * 3);
                auto* lit = arena.allocate_array<std::uint8_t>(bw * 3);
                auto* coloured = arena.allocate_array<std::uint8_t>(bw * 3);
                // Each row only where its mask (and, for the lighting, its features) is non-zero.
                auto span = [&](const std::uint8_t* row, int lo, int hi) {
                    while (lo < hi && !row[lo]) ++lo;
                    while (hi > lo && !row[hi - 1]) --hi;
                    return std::pair{lo, hi};
                };
                for (int y = by0; y < by1; ++y) {
                    const std::size_t start = static_cast<std::size_t>(y) * f.width;
                    const auto [s0, s1] = span(mask.data + start, bx0, bx1);
                    if (s0 == s1) continue;
                    const std::size_t at = start + s0, n = static_cast<std::size_t>(s1 - s0);
                    kernels::remap_bilinear(user.texture, user.width, user.height,
                                            static_cast<std::ptrdiff_t>(user.width) * 3, 3,
                                            user_map + 2 * (static_cast<std::size_t>(y - my) * mf.width + (s0 - mx)),
                                            n, sampled);
                    kernels::lut3d(sampled, n, skin_lut, kTransferLutSize, coloured);
                    const auto [l0, l1] = span(features.data + start, s0, s1);
                    if (l0 < l1) {
                        const std::size_t skip = static_cast<std::size_t>(l0 - s0) * 3;
                        const std::size_t m = static_cast<std::size_t>(l1 - l0);
                        kernels::lut3d(sampled + skip, m, light_lut, kTransferLutSize, lit);
                        kernels::blend(coloured + skip, lit, features.data + start + l0, 256, m, 3,
                                       coloured + skip);
                    }
                    for (std::size_t i = 0; i < n; ++i)
                        if (mask.data[at + i])
                            std::memcpy(top + 3 * (at + i), coloured + 3 * i, 3);
                }
            }

            // The membrane fades out 12% of the face's width inside the edge: deeper, the inside
            // takes the rim's colour instead of the template's skin colour; shallower, the seam
            // shows again (measured on the shared pairs, tests/test_fusion.py).
            match_boundary(f, warped, mask.data, static_cast<int>(0.12f * face_width), top);

            auto* alpha = arena.allocate_array<float>(pixels);
            const float weight = params.features / 255.0f;
            for (std::size_t i = 0; i < pixels; ++i) alpha[i] = static_cast<float>(mask.data[i]) * weight;

            // 5. The blend.
            auto* out = arena.allocate_array<std::uint8_t>(pixels * 3);
            multiband(f, warped, top, alpha, levels, out);
            if (params.blend == FusionBlend::Poisson) poisson(f, warped, top, alpha, 150, out);
            // The low bands reach into small holes: the kept openings are put back after the
            // blend, feathered, so teeth and eyes are the template's own.
            if (keep) {
                beauty::feather(f, kept, std::max(1, soft / 3), 1);
                kernels::blend(out, warped, kept.data, 256, pixels, 3, out);
            }
            result = out;
        }
    }

    const ChannelMap channels = rgb_channel_map(src.format);
    const int bpp = bytes_per_pixel(src.format);
    for (int y = 0; y < f.height; ++y) {
        std::uint8_t* row = dst + (y + y0) * dst_stride + static_cast<std::ptrdiff_t>(x0) * bpp;
        const std::uint8_t* in = result + static_cast<std::size_t>(y) * f.width * 3;
        if (src.format == PixelFormat::RGB) {  // already in order: a plain copy
            std::memcpy(row, in, static_cast<std::size_t>(f.width) * 3);
            continue;
        }
        for (int x = 0; x < f.width; ++x) {
            row[x * bpp + channels.r] = in[x * 3];
            row[x * bpp + channels.g] = in[x * 3 + 1];
            row[x * bpp + channels.b] = in[x * 3 + 2];
        }
    }
}

}  // namespace facekit
