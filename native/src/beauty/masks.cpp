// Beauty masks: polygons and discs rasterized from the mesh, feathered and combined, and the
// masked blends every effect ends with.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <stdexcept>

#include "beauty/beauty_internal.h"
#include "facekit/landmarks.h"

namespace facekit::beauty {

Mesh::Mesh(const float* landmarks, int stride, Arena& arena)
    : points_(arena.allocate_array<Vec2>(kMeshLandmarks)) {
    for (int i = 0; i < kMeshLandmarks; ++i) {
        points_[i] = {landmarks[i * stride], landmarks[i * stride + 1]};
        if (!std::isfinite(points_[i].x) || !std::isfinite(points_[i].y))
            throw std::invalid_argument("landmarks hold a non-finite coordinate");
    }
}

// Even-odd scanline fill of a polygon (image coordinates) into `plane`, sampled at pixel
// centres, OR-ed in as 255.
void fill_polygon(const Frame& f, const ArenaVector<Vec2>& polygon, Plane& plane) {
    const std::size_t n = polygon.size();
    if (n < 3) return;
    ArenaVector<float> crossings{ArenaAllocator<float>(f.arena)};
    crossings.reserve(n);
    // Only rows whose sample line can cross an edge (the polygon's vertical extent).
    float top = polygon[0].y, bottom = polygon[0].y;
    for (const Vec2& p : polygon) top = std::min(top, p.y), bottom = std::max(bottom, p.y);
    const int first = std::clamp(static_cast<int>(std::floor(top - 0.5f)) - f.y0 - 1, 0, f.height);
    const int last = std::clamp(static_cast<int>(std::ceil(bottom - 0.5f)) - f.y0 + 1, first, f.height);
    for (int y = first; y < last; ++y) {
        const float sample_y = static_cast<float>(y + f.y0) + 0.5f;
        crossings.clear();
        for (std::size_t i = 0; i < n; ++i) {
            const Vec2 a = polygon[i], b = polygon[(i + 1) % n];
            if ((a.y <= sample_y) == (b.y <= sample_y)) continue;
            const float t = (sample_y - a.y) / (b.y - a.y);
            crossings.push_back(a.x + t * (b.x - a.x));
        }
        std::sort(crossings.begin(), crossings.end());
        std::uint8_t* row = plane.data + static_cast<std::size_t>(y) * f.width;
        for (std::size_t i = 0; i + 1 < crossings.size(); i += 2) {
            // Pixels whose centre x + 0.5 lies in [left, right).
            const int begin = std::max(0, static_cast<int>(std::ceil(crossings[i] - 0.5f)) - f.x0);
            const int end = std::min(f.width, static_cast<int>(std::ceil(crossings[i + 1] - 0.5f)) - f.x0);
            for (int x = begin; x < end; ++x) row[x] = 255;
        }
    }
}

ArenaVector<Vec2> polygon_of(const Mesh& mesh, const std::vector<int>& indices, Arena& arena) {
    ArenaVector<Vec2> out{ArenaAllocator<Vec2>(arena)};
    out.reserve(indices.size());
    for (int i : indices) out.push_back(mesh[i]);
    return out;
}

// A polygon scaled about `centre` by (sx, sy) in the frame of the unit vectors `u`, `v`.
ArenaVector<Vec2> scaled(const ArenaVector<Vec2>& polygon, Vec2 centre, float su, float sv,
                          Vec2 u, Vec2 v) {
    ArenaVector<Vec2> out{polygon.get_allocator()};
    out.reserve(polygon.size());
    for (Vec2 p : polygon) {
        const Vec2 d = p - centre;
        const float a = d.x * u.x + d.y * u.y, b = d.x * v.x + d.y * v.y;
        out.push_back(centre + u * (a * su) + v * (b * sv));
    }
    return out;
}

void fill_disc(const Frame& f, Vec2 centre, float radius, Plane& plane) {
    for (int y = 0; y < f.height; ++y) {
        const float dy = static_cast<float>(y + f.y0) + 0.5f - centre.y;
        for (int x = 0; x < f.width; ++x) {
            const float dx = static_cast<float>(x + f.x0) + 0.5f - centre.x;
            if (dx * dx + dy * dy <= radius * radius)
                plane.data[static_cast<std::size_t>(y) * f.width + x] = 255;
        }
    }
}

// The mean is a 32.32 fixed-point reciprocal multiply: exact enough, and no division per pixel.
void feather(const Frame& f, Plane& plane, int r, int passes) {
    if (r < 1) return;
    // Only the rows that hold coverage, grown by the filter's reach (plus one zero row, so the
    // replicated border of the sub-range equals the zeros beyond it): the same result as
    // filtering the whole plane, for a fraction of the work when the mask is small.
    auto [first, last] = rows_in_use(plane);
    if (first == last) return;
    first = std::max(0, first - r * passes - 1);
    last = std::min(plane.height, last + r * passes + 1);
    const int height = last - first;
    std::uint8_t* data = plane.data + static_cast<std::size_t>(first) * plane.width;
    const std::size_t n = static_cast<std::size_t>(height) * plane.width;
    std::uint32_t* values = f.box_plane(0);
    std::uint32_t* sums = f.box_plane(1);
    auto* scratch = f.arena.allocate_array<std::uint32_t>(static_cast<std::size_t>(f.width) + 2 * r + 1);
    const std::uint64_t window = static_cast<std::uint64_t>(2 * r + 1) * (2 * r + 1);
    const std::uint64_t reciprocal = ((std::uint64_t{1} << 32) + window / 2) / window;
    for (int pass = 0; pass < passes; ++pass) {
        for (std::size_t i = 0; i < n; ++i) values[i] = data[i];
        kernels::box_sum(values, f.width, height, r, sums, scratch);
        for (std::size_t i = 0; i < n; ++i)
            data[i] = static_cast<std::uint8_t>(
                std::min<std::uint64_t>((sums[i] * reciprocal + (std::uint64_t{1} << 31)) >> 32, 255));
    }
}

// Rows [first, last) of `mask` that hold a non-zero byte (first == last when none do).
std::pair<int, int> rows_in_use(const Plane& mask) {
    auto row_used = [&](int y) {
        const std::uint8_t* row = mask.data + static_cast<std::size_t>(y) * mask.width;
        int x = 0;
        for (; x + 8 <= mask.width; x += 8) {  // eight bytes at a time: most rows are empty
            std::uint64_t word;
            std::memcpy(&word, row + x, sizeof word);
            if (word) return true;
        }
        for (; x < mask.width; ++x)
            if (row[x]) return true;
        return false;
    };
    int first = 0, last = mask.height;
    while (first < last && !row_used(first)) ++first;
    while (last > first && !row_used(last - 1)) --last;
    return {first, last};
}

// Dilates a 0/255 plane by about r pixels (a box filter, then any coverage counts).
void dilate(const Frame& f, Plane& plane, int r) {
    feather(f, plane, r, 1);
    for (std::size_t i = 0; i < plane.size(); ++i) plane.data[i] = plane.data[i] ? 255 : 0;
}

void subtract(Plane& a, const Plane& b) {
    for (std::size_t i = 0; i < a.size(); ++i) a.data[i] = b.data[i] ? 0 : a.data[i];
}

// The rows [first, last) of a work buffer `width` pixels wide.
Work rows(const Work& w, int width, int first, int last) {
    const std::size_t offset = static_cast<std::size_t>(first) * width;
    return {w.image + offset * 3, w.target + offset * 3, static_cast<std::size_t>(last - first) * width};
}

void blend(const Work& w, const Plane& mask, float strength) {
    const int weight = q8(strength);
    if (weight == 0) return;
    kernels::blend(w.image, w.target, mask.data, weight, w.pixels, 3, w.image);
}

Masks build_masks(const Frame& f, const Mesh& mesh, const MeshRegions& regions,
                  const BeautyParams& params, int soft, bool all) {
    const bool need_face = params.sharpen > 0;
    const bool need_features = needs_skin(params, all) || params.dark_circles > 0 ||
                               params.blush.strength > 0;
    const bool need_lips = all || params.lipstick.strength > 0 || params.teeth_whitening > 0;
    auto polygon = [&](Region r) { return polygon_of(mesh, regions[static_cast<int>(r)], f.arena); };
    Masks m;
    if (need_face) {
        m.face = f.plane();
        fill_polygon(f, polygon(Region::FaceOval), m.face);
        feather(f, m.face, soft, 2);
    }
    if (need_features) {
        m.features = f.plane();
        for (Region r : {Region::LeftEye, Region::RightEye, Region::LeftBrow, Region::RightBrow,
                         Region::LipsOuter, Region::Nostrils})
            fill_polygon(f, polygon(r), m.features);
        dilate(f, m.features, soft);
    }
    if (need_lips) {
        m.lips = f.plane();
        fill_polygon(f, polygon(Region::LipsOuter), m.lips);
        m.mouth = f.plane();
        fill_polygon(f, polygon(Region::LipsInner), m.mouth);
        subtract(m.lips, m.mouth);
        feather(f, m.lips, std::max(1, soft / 3), 1);
    }
    if (all) {
        m.eyes = f.plane();
        fill_polygon(f, polygon(Region::LeftEye), m.eyes);
        fill_polygon(f, polygon(Region::RightEye), m.eyes);
    }
    return m;
}

}  // namespace facekit::beauty
