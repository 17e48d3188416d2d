// Fusion geometry: alignment of the user's mesh to the template's, the target geometry, the outer
// ring that makes the warp fade to the identity, and the piecewise-affine inverse maps.
#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <utility>

#include "facekit/landmarks.h"
#include "facekit/warp.h"
#include "fusion/fusion_internal.h"

namespace facekit::fusion {

namespace {

// Points that expressions move least: eye corners, nose bridge, forehead, chin.
constexpr int kStable[] = {33, 133, 362, 263, 168, 6, 197, 10, 151, 152};
// How far the ring lies from the oval's centre, relative to the oval.
constexpr float kRingScale = 1.3f;

float cross(Vec2 a, Vec2 b, Vec2 c) { return (b.x - a.x) * (c.y - a.y) - (b.y - a.y) * (c.x - a.x); }

}  // namespace

void check_regions(const MeshRegions& regions) {
    for (const auto& polygon : regions) {
        if (polygon.size() < 3) throw std::invalid_argument("each mesh region needs at least 3 points");
        for (int i : polygon)
            if (i < 0 || i >= kMeshLandmarks) throw std::invalid_argument("mesh region index out of range");
    }
}

Vec2* read_points(const float* data, int count, int stride, Arena& arena) {
    auto* points = arena.allocate_array<Vec2>(static_cast<std::size_t>(count));
    for (int i = 0; i < count; ++i) {
        points[i] = {data[static_cast<std::ptrdiff_t>(i) * stride],
                     data[static_cast<std::ptrdiff_t>(i) * stride + 1]};
        // Finite and within kMaxCoordinate: the region's integer bounds are computed from them.
        if (!(std::fabs(points[i].x) <= kMaxCoordinate && std::fabs(points[i].y) <= kMaxCoordinate))
            throw std::invalid_argument("landmarks hold a non-finite or far out-of-image coordinate");
    }
    return points;
}

ArenaVector<Vec2> polygon(const Vec2* points, const std::vector<int>& indices, Arena& arena) {
    ArenaVector<Vec2> out{ArenaAllocator<Vec2>(arena)};
    out.reserve(indices.size());
    for (int i : indices) out.push_back(points[i]);
    return out;
}

float oval_width(const Vec2* points, const MeshRegions& regions) {
    float lo = 1e30f, hi = -1e30f;
    for (int i : regions[static_cast<int>(Region::FaceOval)])
        lo = std::min(lo, points[i].x), hi = std::max(hi, points[i].x);
    return hi - lo;
}

Plane skin_mask(const Frame& f, const Vec2* points, const MeshRegions& regions, int soft) {
    const auto& oval = regions[static_cast<int>(Region::FaceOval)];
    Vec2 centre{0, 0};
    for (int i : oval) centre = centre + points[i];
    centre = centre * (1.0f / static_cast<float>(oval.size()));
    Plane skin = f.plane();
    // Shrunk so that hair, ears and background at the oval's edge stay out of the statistics.
    beauty::fill_polygon(f, beauty::scaled(polygon(points, oval, f.arena), centre, 0.85f, 0.85f,
                                           {1, 0}, {0, 1}),
                         skin);
    Plane features = f.plane();
    for (Region r : {Region::LeftEye, Region::RightEye, Region::LeftBrow, Region::RightBrow,
                     Region::LipsOuter, Region::Nostrils})
        beauty::fill_polygon(f, polygon(points, regions[static_cast<int>(r)], f.arena), features);
    beauty::dilate(f, features, soft);
    beauty::subtract(skin, features);
    return skin;
}

Geometry build_geometry(const Vec2* templ, const Vec2* user, const MeshRegions& regions,
                        float shape, Arena& arena) {
    // Least-squares similarity user -> template: q = [a -b; b a] p + t.
    Vec2 pc{0, 0}, qc{0, 0};
    for (int i : kStable) pc = pc + user[i], qc = qc + templ[i];
    const float inv = 1.0f / static_cast<float>(std::size(kStable));
    pc = pc * inv, qc = qc * inv;
    double num_a = 0, num_b = 0, den = 0;
    for (int i : kStable) {
        const Vec2 p = user[i] - pc, q = templ[i] - qc;
        num_a += double{p.x} * q.x + double{p.y} * q.y;
        num_b += double{p.x} * q.y - double{p.y} * q.x;
        den += double{p.x} * p.x + double{p.y} * p.y;
    }
    const float a = den > 0 ? static_cast<float>(num_a / den) : 1.0f;
    const float b = den > 0 ? static_cast<float>(num_b / den) : 0.0f;

    const auto& oval = regions[static_cast<int>(Region::FaceOval)];
    const int ring = static_cast<int>(oval.size());
    Geometry g;
    g.points = kMeshLandmarks + ring + 3;
    g.source = arena.allocate_array<Vec2>(static_cast<std::size_t>(g.points));
    g.target = arena.allocate_array<Vec2>(static_cast<std::size_t>(g.points));
    g.user = arena.allocate_array<Vec2>(static_cast<std::size_t>(g.points));
    for (int i = 0; i < kMeshLandmarks; ++i) {
        const Vec2 p = user[i] - pc;
        const Vec2 aligned{a * p.x - b * p.y + qc.x, b * p.x + a * p.y + qc.y};
        g.source[i] = templ[i];
        g.target[i] = templ[i] + (aligned - templ[i]) * shape;
        g.user[i] = user[i];
    }
    // The holes' fans (their centres are placed by place_hole_centres).
    const Region holes[] = {Region::LipsInner, Region::LeftEye, Region::RightEye};
    int fan = 0;
    for (Region r : holes) fan += static_cast<int>(regions[static_cast<int>(r)].size());
    g.hole_triangle_count = fan;
    g.hole_triangles = arena.allocate_array<int>(static_cast<std::size_t>(3 * fan));
    int* t = g.hole_triangles;
    for (int h = 0; h < 3; ++h) {
        const auto& loop = regions[static_cast<int>(holes[h])];
        const int n = static_cast<int>(loop.size());
        for (int j = 0; j < n; ++j, t += 3)
            t[0] = kMeshLandmarks + ring + h, t[1] = loop[j], t[2] = loop[(j + 1) % n];
    }
    Vec2 centre{0, 0};
    for (int i : oval) centre = centre + templ[i];
    centre = centre * (1.0f / static_cast<float>(ring));
    for (int j = 0; j < ring; ++j) {
        const Vec2 r = centre + (templ[oval[j]] - centre) * kRingScale;
        g.source[kMeshLandmarks + j] = g.target[kMeshLandmarks + j] = r;
    }
    // Two triangles per oval edge, between the oval and the ring, each wound to have positive
    // area in the template (the ring lies outside the oval, so one test fixes the order).
    g.ring_triangle_count = 2 * ring;
    g.ring_triangles = arena.allocate_array<int>(static_cast<std::size_t>(6 * ring));
    float orientation = 0;
    for (int j = 0; j < ring; ++j) {
        const int o0 = oval[j], o1 = oval[(j + 1) % ring];
        const int r0 = kMeshLandmarks + j, r1 = kMeshLandmarks + (j + 1) % ring;
        int* t = g.ring_triangles + 6 * j;
        t[0] = o0, t[1] = r0, t[2] = o1, t[3] = o1, t[4] = r0, t[5] = r1;
        orientation += cross(g.source[o0], g.source[r0], g.source[o1]);
    }
    if (orientation < 0)
        for (int k = 0; k < 2 * ring; ++k) std::swap(g.ring_triangles[3 * k + 1], g.ring_triangles[3 * k + 2]);
    return g;
}

void place_hole_centres(Geometry& g, const MeshRegions& regions) {
    const Region holes[] = {Region::LipsInner, Region::LeftEye, Region::RightEye};
    for (int h = 0; h < 3; ++h) {
        const auto& loop = regions[static_cast<int>(holes[h])];
        Vec2 s{0, 0}, t{0, 0}, u{0, 0};
        for (int i : loop) s = s + g.source[i], t = t + g.target[i], u = u + g.user[i];
        const float inv = 1.0f / static_cast<float>(loop.size());
        const int at = g.points - 3 + h;
        g.source[at] = s * inv, g.target[at] = t * inv, g.user[at] = u * inv;
    }
}

void unfold(Geometry& g, const int* triangles, int count, Arena& arena) {
    auto* moved = arena.allocate_array<std::uint8_t>(static_cast<std::size_t>(g.points));
    // A triangle must keep this fraction of its template area, wound the template's way.
    constexpr float kKeep = 0.05f;
    auto visit = [&](const int* list, int n) {
        bool any = false;
        for (int t = 0; t < n; ++t) {
            const int* v = list + 3 * t;
            const float before = cross(g.source[v[0]], g.source[v[1]], g.source[v[2]]);
            const float after = cross(g.target[v[0]], g.target[v[1]], g.target[v[2]]);
            if ((before < 0 ? -after : after) > kKeep * std::fabs(before)) continue;
            moved[v[0]] = moved[v[1]] = moved[v[2]] = 1;
            any = true;
        }
        return any;
    };
    for (int round = 0; round < kUnfoldRounds; ++round) {
        std::fill(moved, moved + g.points, std::uint8_t{0});
        const bool mesh = visit(triangles, count);
        const bool ring = visit(g.ring_triangles, g.ring_triangle_count);
        if (!mesh && !ring) return;
        for (int i = 0; i < g.points; ++i)
            if (moved[i]) g.target[i] = g.source[i] + (g.target[i] - g.source[i]) * 0.5f;
    }
}

float min_signed_area(const Vec2* points, const Vec2* reference, const int* triangles,
                      int count) {
    float least = 1e30f;
    for (int t = 0; t < count; ++t) {
        const int* v = triangles + 3 * t;
        const float area = 0.5f * cross(points[v[0]], points[v[1]], points[v[2]]);
        const bool flipped = cross(reference[v[0]], reference[v[1]], reference[v[2]]) < 0;
        least = std::min(least, flipped ? -area : area);
    }
    return least;
}

void rasterize_maps(const Frame& f, const Vec2* to, const int* triangles, int count,
                    const MapTarget* targets, int target_count, std::uint8_t* covered) {
    for (int t = 0; t < count; ++t) {
        const int* v = triangles + 3 * t;
        const Vec2 a = to[v[0]], b = to[v[1]], c = to[v[2]];
        const float area = cross(a, b, c);
        if (!(std::fabs(area) > 1e-6f)) continue;
        // Integer image pixels inside the triangle's box, clipped to the frame.
        const int bx0 = std::max(f.x0, static_cast<int>(std::ceil(std::min({a.x, b.x, c.x}))));
        const int bx1 = std::min(f.x0 + f.width - 1, static_cast<int>(std::floor(std::max({a.x, b.x, c.x}))));
        const int by0 = std::max(f.y0, static_cast<int>(std::ceil(std::min({a.y, b.y, c.y}))));
        const int by1 = std::min(f.y0 + f.height - 1, static_cast<int>(std::floor(std::max({a.y, b.y, c.y}))));
        if (bx0 > bx1 || by0 > by1) continue;
        const float inv = 1.0f / area;
        // Barycentric weights are affine in x: along each row, the pixels where all three are
        // at least `tolerance` form one interval, found first so that only it is visited.
        const float d0x = -(c.y - b.y) * inv, d1x = -(a.y - c.y) * inv, d2x = -d0x - d1x;
        const float tolerance = -1e-4f;
        for (int y = by0; y <= by1; ++y) {
            const Vec2 p{static_cast<float>(bx0), static_cast<float>(y)};
            const float w0 = cross(b, c, p) * inv, w1 = cross(c, a, p) * inv;
            const float w2 = 1.0f - w0 - w1;
            // w + d * t >= tolerance for t = x - bx0 in [lo, hi].
            float lo = 0.0f, hi = static_cast<float>(bx1 - bx0);
            for (const auto& [w, d] : {std::pair{w0, d0x}, std::pair{w1, d1x}, std::pair{w2, d2x}}) {
                if (d > 0) lo = std::max(lo, (tolerance - w) / d);
                else if (d < 0) hi = std::min(hi, (tolerance - w) / d);
                else if (w < tolerance) hi = -1.0f;
            }
            if (!(lo <= hi)) continue;
            // One pixel of slack either side; the exact test below decides.
            const int first = bx0 + std::max(0, static_cast<int>(std::floor(lo)) - 1);
            const int last = bx0 + std::min(bx1 - bx0, static_cast<int>(std::ceil(hi)) + 1);
            const float t0 = static_cast<float>(first - bx0);
            const std::size_t at = static_cast<std::size_t>(y - f.y0) * f.width + (first - f.x0);
            for (int k = 0; k < target_count; ++k) {
                const MapTarget& m = targets[k];
                const Vec2 sa = m.from[v[0]], sb = m.from[v[1]], sc = m.from[v[2]];
                float u0 = w0 + d0x * t0, u1 = w1 + d1x * t0;
                float* row = m.map + 2 * at;
                std::uint8_t* cov = covered && k == 0 ? covered + at : nullptr;
                for (int x = first; x <= last; ++x, u0 += d0x, u1 += d1x, row += 2) {
                    const float u2 = 1.0f - u0 - u1;
                    if (u0 < tolerance || u1 < tolerance || u2 < tolerance) continue;
                    row[0] = u0 * sa.x + u1 * sb.x + u2 * sc.x - m.ox;
                    row[1] = u0 * sa.y + u1 * sb.y + u2 * sc.y - m.oy;
                    if (cov) cov[x - first] = 255;
                }
            }
        }
    }
}

void rasterize_map(const Frame& f, const Vec2* to, const Vec2* from, const int* triangles,
                   int count, float ox, float oy, float* map, std::uint8_t* covered) {
    const MapTarget target{from, ox, oy, map};
    rasterize_maps(f, to, triangles, count, &target, 1, covered);
}

}  // namespace facekit::fusion
