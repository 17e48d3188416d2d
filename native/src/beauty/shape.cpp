// The shape warp: face geometry from the mesh, the local controls of each shape effect, and one
// inverse map over the region (identity plus the sum of the controls), sampled bilinearly.
#include <algorithm>
#include <cmath>
#include <cstring>

#include "beauty/beauty_internal.h"

namespace facekit::beauty {

FaceGeometry geometry(const Mesh& mesh, const MeshRegions& regions) {
    FaceGeometry g{};
    g.eye_left = mesh.centre(regions[static_cast<int>(Region::LeftEye)]);
    g.eye_right = mesh.centre(regions[static_cast<int>(Region::RightEye)]);
    g.mouth = mesh.centre(regions[static_cast<int>(Region::LipsOuter)]);
    g.chin = mesh[152];
    g.forehead = mesh[10];
    g.nose = mesh[4];
    const Vec2 eyes = g.eye_left - g.eye_right;
    g.iod = std::max(length(eyes), 1.0f);
    g.across = eyes * (1.0f / g.iod);
    g.down = {-g.across.y, g.across.x};
    if ((g.chin - (g.eye_left + g.eye_right) * 0.5f).x * g.down.x +
            (g.chin - (g.eye_left + g.eye_right) * 0.5f).y * g.down.y < 0)
        g.down = g.down * -1.0f;
    g.face_width = std::max(length(mesh[454] - mesh[234]), 1.0f);
    g.eye_width = std::max(length(mesh[263] - mesh[362]), 1.0f);
    return g;
}

// Translations: |shift| * 1.54 / radius < 1 keeps each one fold-free (the falloff's slope is
// at most 1.54 / radius); radial scales need scale < 1. Strengths are scaled well inside both.
ArenaVector<Control> shape_controls(const Mesh& mesh, const FaceGeometry& g,
                                    const BeautyParams& p, Arena& arena) {
    ArenaVector<Control> out{ArenaAllocator<Control>(arena)};
    out.reserve(32);
    const float fw = g.face_width;
    auto toward = [&](int index, Vec2 target, float amount, float radius) {
        const Vec2 from = mesh[index];
        const Vec2 d = target - from;
        const float len = std::max(length(d), 1e-3f);
        out.push_back({from, radius, d * (amount / len)});
    };
    if (p.face_slim != 0) {
        for (int index : {132, 58, 172, 136, 361, 288, 397, 365})
            toward(index, g.nose, 0.035f * fw * p.face_slim, 0.28f * fw);
    }
    if (p.v_chin != 0) {
        for (int index : {150, 149, 176, 379, 378, 400})
            toward(index, g.mouth, 0.03f * fw * p.v_chin, 0.22f * fw);
    }
    if (p.chin_length != 0)
        out.push_back({g.chin, 0.3f * fw, g.down * (0.04f * fw * p.chin_length)});
    if (p.forehead != 0)
        out.push_back({g.forehead, 0.4f * fw, g.down * (-0.04f * fw * p.forehead)});
    if (p.eye_enlarge != 0) {
        for (Vec2 eye : {g.eye_left, g.eye_right})
            out.push_back({eye, 1.5f * g.eye_width, {0, 0}, 0.22f * p.eye_enlarge});
    }
    if (p.eye_distance != 0) {
        const float amount = 0.03f * g.iod * p.eye_distance;
        out.push_back({g.eye_left, 1.6f * g.eye_width, g.across * amount});
        out.push_back({g.eye_right, 1.6f * g.eye_width, g.across * -amount});
    }
    if (p.nose_slim != 0) {
        const float width = std::max(length(mesh[358] - mesh[129]), 1.0f);
        for (int index : {129, 358, 48, 278})
            toward(index, g.nose, 0.12f * width * p.nose_slim, 0.7f * width);
    }
    if (p.mouth_size != 0)
        out.push_back({g.mouth, 0.16f * fw, {0, 0}, 0.18f * p.mouth_size});
    return out;
}

const std::uint8_t* warp(const Frame& f, const Work& w, const ArenaVector<Control>& controls,
                         const Plane& occluders, BeautyTrace* trace) {
    if (controls.empty()) return w.image;
    Arena& arena = f.arena;
    const int x0 = f.x0, y0 = f.y0;
    const std::size_t pixels = w.pixels;
    // The displacement, summed over the controls into the map itself (zeroed by the arena: x, y
    // pairs), then scaled over occluders and added to each pixel's own position.
    auto* positions = arena.allocate_array<float>(pixels * 2);
    for (const Control& c : controls) {
        // Only the control's bounding box; pixel centres in image coordinates are x + x0.
        const int bx0 = std::max(0, static_cast<int>(c.centre.x - c.radius) - x0 - 1);
        const int bx1 = std::min(f.width, static_cast<int>(c.centre.x + c.radius) - x0 + 2);
        const int by0 = std::max(0, static_cast<int>(c.centre.y - c.radius) - y0 - 1);
        const int by1 = std::min(f.height, static_cast<int>(c.centre.y + c.radius) - y0 + 2);
        const float inv_r2 = 1.0f / (c.radius * c.radius);
        for (int y = by0; y < by1; ++y) {
            const float dy = static_cast<float>(y + y0) - c.centre.y;
            float* row = positions + static_cast<std::size_t>(y) * f.width * 2;
            for (int x = bx0; x < bx1; ++x) {
                const float dx = static_cast<float>(x + x0) - c.centre.x;
                const float rest = std::max(1.0f - (dx * dx + dy * dy) * inv_r2, 0.0f);
                const float falloff = rest * rest;
                row[2 * x] += -c.shift.x * falloff - c.scale * falloff * dx;
                row[2 * x + 1] += -c.shift.y * falloff - c.scale * falloff * dy;
            }
        }
    }
    // Occluders (a hand, a microphone in front of the face) stay where they are: the
    // displacement fades out over them (the plane is feathered, so the map stays smooth).
    for (int y = 0; y < f.height; ++y) {
        const std::size_t row = static_cast<std::size_t>(y) * f.width;
        for (int x = 0; x < f.width; ++x) {
            float* p = positions + (row + x) * 2;
            if (occluders.data) {
                const float keep = static_cast<float>(255 - occluders.data[row + x]) * (1.0f / 255.0f);
                p[0] *= keep;
                p[1] *= keep;
            }
            p[0] = static_cast<float>(x) + p[0];
            p[1] = static_cast<float>(y) + p[1];
        }
    }
    // Remapped only on the rows some control reaches (the region may be taller: the skin mask's
    // reach); the other rows are the identity, copied.
    int first = f.height, last = 0;
    for (const Control& c : controls) {
        first = std::min(first, std::max(0, static_cast<int>(c.centre.y - c.radius) - y0 - 1));
        last = std::max(last, std::min(f.height, static_cast<int>(c.centre.y + c.radius) - y0 + 2));
    }
    auto* warped = arena.allocate_array<std::uint8_t>(pixels * 3);
    std::memcpy(warped, w.image, pixels * 3);
    if (first < last) {
        const std::size_t offset = static_cast<std::size_t>(first) * f.width;
        kernels::remap_bilinear(w.image, f.width, f.height, static_cast<std::ptrdiff_t>(f.width) * 3,
                                3, positions + offset * 2,
                                static_cast<std::size_t>(last - first) * f.width, warped + offset * 3);
    }
    if (trace) trace->warp = positions;
    return warped;
}

}  // namespace facekit::beauty
