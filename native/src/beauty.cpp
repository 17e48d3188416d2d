// The beauty engine: masks from the mesh, skin filters, makeup, colour grading and one warp.
//
// Order of work, all inside the face's region R (its bounding box grown by the reach of the
// shape controls and the feathering, clipped to the image):
//   1. copy R of the source into a 3-channel work buffer W (RGB order whatever the format);
//   2. rasterize region masks from the mesh polygons and feather them (box filters);
//   3. skin: smoothing (guided filter), whitening, rosy, dark circles, teeth; makeup; sharpen;
//      3D LUT: each computes a target image and blends it into W through a mask;
//   4. shape: one inverse map over R (identity plus the sum of local, smooth displacements),
//      sampled bilinearly from W into the output.
// Each blend leaves a pixel exact where its mask is 0, and the map is exactly the identity
// where no control reaches, so pixels no effect touches keep their values bit for bit.
#include "facekit/beauty.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <stdexcept>
#include <string>
#include <utility>

#include "facekit/landmarks.h"
#include "kernels/beauty_kernels.h"

namespace facekit {

namespace {




// Every landmark-derived value lives in the arena, containers included: a std::vector on the
// C heap would leave its coordinates behind when freed. Nothing is freed here; the frame's wipe
// clears it all.
template <typename T>
struct ArenaAllocator {
    using value_type = T;
    Arena* arena;
    explicit ArenaAllocator(Arena& a) noexcept : arena(&a) {}
    template <typename U>
    ArenaAllocator(const ArenaAllocator<U>& other) noexcept : arena(other.arena) {}
    T* allocate(std::size_t n) { return arena->allocate_array<T>(n); }
    void deallocate(T*, std::size_t) noexcept {}
    template <typename U>
    bool operator==(const ArenaAllocator<U>& o) const noexcept { return arena == o.arena; }
    template <typename U>
    bool operator!=(const ArenaAllocator<U>& o) const noexcept { return arena != o.arena; }
};
template <typename T>
using ArenaVector = std::vector<T, ArenaAllocator<T>>;

struct Vec2 {
    float x, y;
};

Vec2 operator+(Vec2 a, Vec2 b) { return {a.x + b.x, a.y + b.y}; }
Vec2 operator-(Vec2 a, Vec2 b) { return {a.x - b.x, a.y - b.y}; }
Vec2 operator*(Vec2 a, float s) { return {a.x * s, a.y * s}; }
float length(Vec2 a) { return std::sqrt(a.x * a.x + a.y * a.y); }

// The mesh, read once from the caller's strided array into arena memory.
class Mesh {
public:
    Mesh(const float* landmarks, int stride, Arena& arena)
        : points_(arena.allocate_array<Vec2>(kMeshLandmarks)) {
        for (int i = 0; i < kMeshLandmarks; ++i) {
            points_[i] = {landmarks[i * stride], landmarks[i * stride + 1]};
            if (!std::isfinite(points_[i].x) || !std::isfinite(points_[i].y))
                throw std::invalid_argument("landmarks hold a non-finite coordinate");
        }
    }
    Vec2 operator[](int i) const { return points_[i]; }
    Vec2 centre(const std::vector<int>& indices) const {
        Vec2 sum{0, 0};
        for (int i : indices) sum = sum + points_[i];
        return sum * (1.0f / static_cast<float>(indices.size()));
    }

private:
    Vec2* points_;
};

// A single-channel 8-bit plane over the work region.
struct Plane {
    std::uint8_t* data = nullptr;
    int width = 0, height = 0;
    std::size_t size() const { return static_cast<std::size_t>(width) * height; }
};

// Work-region geometry: image pixel (x, y) is plane pixel (x - x0, y - y0).
struct Frame {
    int x0, y0, width, height;
    Arena& arena;

    Plane plane() const {
        Plane p;
        p.width = width;
        p.height = height;
        p.data = arena.allocate_array<std::uint8_t>(p.size());
        return p;
    }
};

// Even-odd scanline fill of a polygon (image coordinates) into `plane`, sampled at pixel
// centres, OR-ed in as 255.
void fill_polygon(const Frame& f, const ArenaVector<Vec2>& polygon, Plane& plane) {
    const std::size_t n = polygon.size();
    if (n < 3) return;
    ArenaVector<float> crossings{ArenaAllocator<float>(f.arena)};
    crossings.reserve(n);
    for (int y = 0; y < f.height; ++y) {
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

// Box-filters a plane in place (radius r, `passes` times: 2 approximates a Gaussian). The mean
// is a 32.32 fixed-point reciprocal multiply: exact enough, and no division per pixel.
std::pair<int, int> rows_in_use(const Plane& mask);

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
    auto* values = f.arena.allocate_array<std::uint32_t>(n);
    auto* sums = f.arena.allocate_array<std::uint32_t>(n);
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
        for (int x = 0; x < mask.width; ++x)
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

std::uint8_t clamp_u8(int v) { return static_cast<std::uint8_t>(std::clamp(v, 0, 255)); }

int q8(float strength) {
    return static_cast<int>(std::lround(std::clamp(strength, 0.0f, 1.0f) * 256.0f));
}

int luma(const std::uint8_t* p) { return (77 * p[0] + 150 * p[1] + 29 * p[2] + 128) >> 8; }

// The region's work buffer W and a target buffer T for blends (both RGB, 3 bytes per pixel).
struct Work {
    std::uint8_t* image;
    std::uint8_t* target;
    std::size_t pixels;
};

// 2x bilinear upsampling of an integer plane (sample positions at pixel centres, edges
// replicated): weights 9/16, 3/16, 3/16, 1/16, as a horizontal pass (3 near + 1 far, into
// `rows`, lh x width values) and a vertical one (3 near + 1 far, rounded, / 16).
void upsample2(const std::uint32_t* low, int lw, int lh, std::uint32_t* out, int width, int height,
               std::uint32_t* rows) {
    for (int ly = 0; ly < lh; ++ly) {
        const std::uint32_t* v = low + static_cast<std::size_t>(ly) * lw;
        std::uint32_t* h = rows + static_cast<std::size_t>(ly) * width;
        for (int k = 0; k < lw; ++k) {
            const std::uint32_t centre = 3 * v[k];
            const int x = 2 * k;
            h[x] = centre + v[k > 0 ? k - 1 : 0];
            if (x + 1 < width) h[x + 1] = centre + v[k + 1 < lw ? k + 1 : lw - 1];
        }
    }
    for (int y = 0; y < height; ++y) {
        const int ly = y / 2;
        const int ny = std::clamp(y % 2 ? ly + 1 : ly - 1, 0, lh - 1);
        const std::uint32_t* near_row = rows + static_cast<std::size_t>(ly) * width;
        const std::uint32_t* far_row = rows + static_cast<std::size_t>(ny) * width;
        std::uint32_t* row = out + static_cast<std::size_t>(y) * width;
        for (int x = 0; x < width; ++x) row[x] = (3 * near_row[x] + far_row[x] + 8) >> 4;
    }
}

// Smoothing: a guided filter of each channel by itself (radius r, regularization eps). Regions
// over 40,000 pixels use the fast guided filter: coefficients computed on a 2x-downsampled
// plane (radius r / 2) and spread back to full resolution (bilinear), then applied to the
// full-resolution pixels; the coefficients are smooth, so this costs a quarter of the work
// for no visible change.
void guided_filter(const Frame& f, const Work& w, int r, float eps) {
    const int step = static_cast<std::size_t>(f.width) * f.height > 40000 ? 2 : 1;
    const int lw = (f.width + step - 1) / step, lh = (f.height + step - 1) / step;
    const int lr = std::max(1, r / step);
    const std::size_t n = w.pixels, low = static_cast<std::size_t>(lw) * lh;
    Arena& arena = f.arena;
    std::uint32_t* channel[3];
    for (auto& c : channel) c = arena.allocate_array<std::uint32_t>(low);
    auto* sum_i = arena.allocate_array<std::uint32_t>(low);
    auto* sum_ii = arena.allocate_array<std::uint32_t>(low);
    auto* a_q = arena.allocate_array<std::uint32_t>(low);
    auto* b_q = arena.allocate_array<std::uint32_t>(low);
    auto* scratch = arena.allocate_array<std::uint32_t>(static_cast<std::size_t>(lw) + 2 * lr + 1);
    std::uint32_t* up_a = step == 1 ? sum_i : arena.allocate_array<std::uint32_t>(n);
    std::uint32_t* up_b = step == 1 ? sum_ii : arena.allocate_array<std::uint32_t>(n);
    std::uint32_t* rows = step == 1 ? nullptr
                                    : arena.allocate_array<std::uint32_t>(static_cast<std::size_t>(lh) * f.width);
    const float inv_n = 1.0f / static_cast<float>((2 * lr + 1) * (2 * lr + 1));
    // Every channel at the coefficient resolution in one pass over the pixels: block means
    // (step x step pixels, edges replicated).
    const std::uint32_t count = static_cast<std::uint32_t>(step * step);
    for (int ly = 0; ly < lh; ++ly) {
        const int y_a = ly * step, y_b = std::min(ly * step + step - 1, f.height - 1);
        const std::uint8_t* row_a = w.image + static_cast<std::size_t>(y_a) * f.width * 3;
        const std::uint8_t* row_b = w.image + static_cast<std::size_t>(y_b) * f.width * 3;
        for (int lx = 0; lx < lw; ++lx) {
            const int x_a = lx * step * 3, x_b = std::min(lx * step + step - 1, f.width - 1) * 3;
            for (int c = 0; c < 3; ++c) {
                const std::uint32_t sum = step == 1
                    ? static_cast<std::uint32_t>(row_a[x_a + c])
                    : static_cast<std::uint32_t>(row_a[x_a + c] + row_a[x_b + c] + row_b[x_a + c] + row_b[x_b + c]);
                channel[c][static_cast<std::size_t>(ly) * lw + lx] = step == 1 ? sum : (sum + count / 2) / count;
            }
        }
    }
    for (int c = 0; c < 3; ++c) {
        std::uint32_t* plane = channel[c];
        kernels::box_sum(plane, lw, lh, lr, sum_i, scratch);
        for (std::size_t i = 0; i < low; ++i) plane[i] *= plane[i];
        kernels::box_sum(plane, lw, lh, lr, sum_ii, scratch);
        kernels::guided_coefficients(sum_i, sum_ii, low, inv_n, eps, a_q, b_q);
        kernels::box_sum(a_q, lw, lh, lr, sum_i, scratch);
        kernels::box_sum(b_q, lw, lh, lr, sum_ii, scratch);
        if (step != 1) {
            upsample2(sum_i, lw, lh, up_a, f.width, f.height, rows);
            upsample2(sum_ii, lw, lh, up_b, f.width, f.height, rows);
        }
        kernels::guided_output(up_a, up_b, w.image + c, 3, n, inv_n, w.target + c, 3);
    }
}

// T = in + (in - box3x3(in)), a 3x3 unsharp mask.
void sharpened(const Frame& f, const Work& w) {
    const std::size_t n = w.pixels;
    auto* plane = f.arena.allocate_array<std::uint32_t>(n);
    auto* sums = f.arena.allocate_array<std::uint32_t>(n);
    auto* scratch = f.arena.allocate_array<std::uint32_t>(static_cast<std::size_t>(f.width) + 3);
    for (int c = 0; c < 3; ++c) {
        for (std::size_t i = 0; i < n; ++i) plane[i] = w.image[i * 3 + c];
        kernels::box_sum(plane, f.width, f.height, 1, sums, scratch);
        for (std::size_t i = 0; i < n; ++i) {
            const int v = w.image[i * 3 + c];
            // sum / 9 as (sum * 7282 + 32768) >> 16: exact for every sum of nine bytes.
            w.target[i * 3 + c] = clamp_u8(2 * v - static_cast<int>((sums[i] * 7282 + 32768) >> 16));
        }
    }
}

// A brightening curve: v + alpha * v * (255 - v) / 255 (keeps 0 and 255, lifts the middle).
void lift_table(float alpha, std::uint8_t table[256]) {
    for (int v = 0; v < 256; ++v)
        table[v] = clamp_u8(static_cast<int>(std::lround(v + alpha * v * (255 - v) / 255.0f)));
}

void apply_table(const Work& w, const std::uint8_t table[256]) {
    kernels::apply_table(w.image, w.pixels * 3, table, w.target);
}

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

void rosy_target(const Work& w) {
    for (std::size_t i = 0; i < w.pixels; ++i) {
        const std::uint8_t* p = w.image + i * 3;
        std::uint8_t* t = w.target + i * 3;
        t[0] = clamp_u8(p[0] + 36);
        t[1] = static_cast<std::uint8_t>(p[1] * 225 / 255);
        t[2] = static_cast<std::uint8_t>(p[2] * 235 / 255);
    }
}

// Teeth: lifted and de-yellowed, weighted by how tooth-like (bright, unsaturated) a pixel is.
void teeth_target(const Work& w, const std::uint8_t* mouth, std::uint8_t* weight) {
    std::uint8_t lift[256];
    lift_table(0.35f, lift);
    for (std::size_t i = 0; i < w.pixels; ++i) {
        const std::uint8_t* p = w.image + i * 3;
        std::uint8_t* t = w.target + i * 3;
        const int hi = std::max({p[0], p[1], p[2]}), lo = std::min({p[0], p[1], p[2]});
        const int bright = std::clamp((luma(p) - 90) * 4, 0, 255);
        const int grey = std::clamp(255 - (hi - lo) * 3, 0, 255);
        weight[i] = static_cast<std::uint8_t>(mouth[i] * bright / 255 * grey / 255);
        const int blue = std::max<int>(p[2], (p[0] + p[1]) / 2);
        t[0] = lift[p[0]];
        t[1] = lift[p[1]];
        t[2] = lift[blue];
    }
}

void lut_target(const Work& w, const std::uint8_t* lut, int size) {
    kernels::lut3d(w.image, w.pixels, lut, size, w.target);
}

// The rows [first, last) of a work buffer `width` pixels wide.
Work rows(const Work& w, int width, int first, int last) {
    const std::size_t offset = static_cast<std::size_t>(first) * width;
    return {w.image + offset * 3, w.target + offset * 3, static_cast<std::size_t>(last - first) * width};
}

// Computes `target` (a function of a Work) on the rows where `mask` is non-zero and blends it
// in there through the mask at `strength`; other rows are not touched at all.
template <typename Target>
void masked(const Frame& f, const Work& w, const Plane& mask, float strength, Target&& target) {
    const int weight = q8(strength);
    if (weight == 0) return;
    const auto [first, last] = rows_in_use(mask);
    if (first == last) return;
    const Work part = rows(w, f.width, first, last);
    target(part);
    kernels::blend(part.image, part.target, mask.data + static_cast<std::size_t>(first) * f.width,
                   weight, part.pixels, 3, part.image);
}

void blend(const Work& w, const Plane& mask, float strength) {
    const int weight = q8(strength);
    if (weight == 0) return;
    kernels::blend(w.image, w.target, mask.data, weight, w.pixels, 3, w.image);
}

// --- shape ------------------------------------------------------------------------------------

// One local displacement of the inverse map, zero beyond `radius` (smooth: the falloff
// (1 - d^2/radius^2)^2 and its derivative vanish there). Kinds: a translation of the content by
// `shift` (the source of p lies at p - shift * falloff), or a radial scale about `centre`
// (sampling closer to the centre, so enlarging, for scale > 0).
struct Control {
    Vec2 centre;
    float radius;
    Vec2 shift{0, 0};
    float scale = 0;
};

struct FaceGeometry {
    Vec2 eye_left, eye_right;  // centres of the subject's left and right eye loops
    Vec2 mouth, chin, forehead, nose;
    float face_width, eye_width, iod;
    Vec2 across, down;  // unit vectors: along the eye line, and from the eyes to the chin
};

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
    // The region: the face oval and every control's reach, plus the feathering margin.
    float lo_x = 1e30f, lo_y = 1e30f, hi_x = -1e30f, hi_y = -1e30f;
    for (int i : regions[static_cast<int>(Region::FaceOval)]) {
        lo_x = std::min(lo_x, mesh[i].x), hi_x = std::max(hi_x, mesh[i].x);
        lo_y = std::min(lo_y, mesh[i].y), hi_y = std::max(hi_y, mesh[i].y);
    }
    for (const Control& c : controls) {
        lo_x = std::min(lo_x, c.centre.x - c.radius), hi_x = std::max(hi_x, c.centre.x + c.radius);
        lo_y = std::min(lo_y, c.centre.y - c.radius), hi_y = std::max(hi_y, c.centre.y + c.radius);
    }
    const float margin = 0.06f * g.face_width + 2.0f;
    // Clamped as floats (NaN to 0): landmarks far outside the image must not overflow the cast.
    auto inside = [](float v, int size) {
        return v > 0 ? static_cast<int>(std::min(v, static_cast<float>(size))) : 0;
    };
    const int x0 = inside(std::floor(lo_x - margin), src.width);
    const int y0 = inside(std::floor(lo_y - margin), src.height);
    const int x1 = inside(std::ceil(hi_x + margin), src.width);
    const int y1 = inside(std::ceil(hi_y + margin), src.height);
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
    const bool masks = trace != nullptr && trace->masks;
    const bool need_skin = masks || params.smoothing > 0 || params.whitening > 0 || params.rosy > 0;
    const bool need_face = params.sharpen > 0 || (params.lut_table != nullptr && params.lut > 0);
    const bool need_features = need_skin || params.dark_circles > 0 || params.blush.strength > 0;
    const bool need_lips = masks || params.lipstick.strength > 0 || params.teeth_whitening > 0;
    const int soft = std::max(1, static_cast<int>(0.025f * g.face_width));
    auto polygon = [&](Region r) { return polygon_of(mesh, regions[static_cast<int>(r)], arena); };
    Plane face, features, skin, lips, mouth;
    if (need_skin || need_face) {
        face = f.plane();
        fill_polygon(f, polygon(Region::FaceOval), face);
    }
    if (need_features) {
        features = f.plane();
        for (Region r : {Region::LeftEye, Region::RightEye, Region::LeftBrow, Region::RightBrow,
                         Region::LipsOuter, Region::Nostrils})
            fill_polygon(f, polygon(r), features);
        dilate(f, features, soft);
    }
    if (need_skin) {
        skin = f.plane();
        std::memcpy(skin.data, face.data, pixels);
        subtract(skin, features);
        feather(f, skin, soft, 2);
    }
    if (need_face) feather(f, face, soft, 2);
    if (need_lips) {
        lips = f.plane();
        fill_polygon(f, polygon(Region::LipsOuter), lips);
        mouth = f.plane();
        fill_polygon(f, polygon(Region::LipsInner), mouth);
        subtract(lips, mouth);
        feather(f, lips, std::max(1, soft / 3), 1);
    }
    if (masks) {
        Plane eyes = f.plane();
        fill_polygon(f, polygon(Region::LeftEye), eyes);
        fill_polygon(f, polygon(Region::RightEye), eyes);
        trace->skin = skin.data, trace->lips = lips.data, trace->eyes = eyes.data;
    }

    // 3. Skin, makeup, grading.
    if (params.smoothing > 0) {
        const int radius = std::max(2, static_cast<int>(0.022f * g.face_width));
        guided_filter(f, w, radius, 600.0f);
        blend(w, skin, 0.85f * params.smoothing);
    }
    if (params.whitening > 0) {
        std::uint8_t table[256];
        lift_table(0.6f, table);
        masked(f, w, skin, params.whitening, [&](const Work& part) { apply_table(part, table); });
    }
    if (params.rosy > 0) {
        masked(f, w, skin, 0.6f * params.rosy, [&](const Work& part) { rosy_target(part); });
    }
    if (params.dark_circles > 0) {
        Plane under = f.plane();
        for (Vec2 eye : {g.eye_left, g.eye_right}) {
            const Vec2 centre = eye + g.down * (0.55f * g.eye_width);
            ArenaVector<Vec2> ellipse{ArenaAllocator<Vec2>(arena)};
            ellipse.reserve(24);
            for (int k = 0; k < 24; ++k) {
                const float t = 6.2831853f * static_cast<float>(k) / 24.0f;
                ellipse.push_back(centre + g.across * (0.6f * g.eye_width * std::cos(t)) +
                                  g.down * (0.22f * g.eye_width * std::sin(t)));
            }
            fill_polygon(f, ellipse, under);
        }
        subtract(under, features);
        feather(f, under, soft, 2);
        std::uint8_t table[256];
        lift_table(0.5f, table);
        masked(f, w, under, params.dark_circles, [&](const Work& part) { apply_table(part, table); });
    }
    if (params.teeth_whitening > 0) {
        Plane inner = f.plane();
        std::memcpy(inner.data, mouth.data, pixels);
        feather(f, inner, 1, 1);
        Plane weight = f.plane();
        const auto [first, last] = rows_in_use(inner);
        if (first < last) {
            const std::size_t offset = static_cast<std::size_t>(first) * f.width;
            const Work part = rows(w, f.width, first, last);
            teeth_target(part, inner.data + offset, weight.data + offset);
            kernels::blend(part.image, part.target, weight.data + offset,
                           q8(params.teeth_whitening), part.pixels, 3, part.image);
        }
    }
    if (params.lipstick.strength > 0) {
        masked(f, w, lips, params.lipstick.strength,
               [&](const Work& part) { tinted(part, params.lipstick.rgb); });
    }
    if (params.blush.strength > 0) {
        Plane cheeks = f.plane();
        fill_disc(f, mesh[50], 0.11f * g.face_width, cheeks);
        fill_disc(f, mesh[280], 0.11f * g.face_width, cheeks);
        subtract(cheeks, features);
        feather(f, cheeks, 2 * soft, 2);
        masked(f, w, cheeks, 0.6f * params.blush.strength,
               [&](const Work& part) { averaged(part, params.blush.rgb); });
    }
    if (params.brow_tint.strength > 0) {
        Plane brows = f.plane();
        fill_polygon(f, polygon(Region::LeftBrow), brows);
        fill_polygon(f, polygon(Region::RightBrow), brows);
        feather(f, brows, std::max(1, soft / 3), 1);
        masked(f, w, brows, 0.7f * params.brow_tint.strength,
               [&](const Work& part) { tinted(part, params.brow_tint.rgb); });
    }
    if (params.eyeshadow.strength > 0) {
        Plane lids = f.plane();
        Plane eyes = f.plane();
        for (Region r : {Region::LeftEye, Region::RightEye}) {
            const auto loop = polygon(r);
            const Vec2 centre = mesh.centre(regions[static_cast<int>(r)]);
            // The eye grown upward: a lid band between the eye and the brow.
            fill_polygon(f, scaled(loop, centre - g.down * (0.25f * g.eye_width), 1.15f, 2.2f,
                                   g.across, g.down), lids);
            fill_polygon(f, loop, eyes);
        }
        dilate(f, eyes, std::max(1, soft / 2));
        subtract(lids, eyes);
        feather(f, lids, soft, 2);
        masked(f, w, lids, 0.7f * params.eyeshadow.strength,
               [&](const Work& part) { multiplied(part, params.eyeshadow.rgb); });
    }
    if (params.sharpen > 0) {
        sharpened(f, w);
        blend(w, face, 0.8f * params.sharpen);
    }
    if (params.lut_table != nullptr && params.lut > 0) {
        masked(f, w, face, params.lut,
               [&](const Work& part) { lut_target(part, params.lut_table, params.lut_size); });
    }

    // 4. Shape, and the write-back.
    const std::uint8_t* result = w.image;
    if (!controls.empty()) {
        // The displacement as two planes (zeroed by the arena), summed over the controls in
        // branch-free rows the compiler vectorizes, then added to each pixel's own position.
        auto* shift_x = arena.allocate_array<float>(pixels);
        auto* shift_y = arena.allocate_array<float>(pixels);
        for (const Control& c : controls) {
            // Only the control's bounding box; pixel centres in image coordinates are x + x0.
            const int bx0 = std::max(0, static_cast<int>(c.centre.x - c.radius) - x0 - 1);
            const int bx1 = std::min(f.width, static_cast<int>(c.centre.x + c.radius) - x0 + 2);
            const int by0 = std::max(0, static_cast<int>(c.centre.y - c.radius) - y0 - 1);
            const int by1 = std::min(f.height, static_cast<int>(c.centre.y + c.radius) - y0 + 2);
            const float inv_r2 = 1.0f / (c.radius * c.radius);
            for (int y = by0; y < by1; ++y) {
                const float dy = static_cast<float>(y + y0) - c.centre.y;
                float* row_x = shift_x + static_cast<std::size_t>(y) * f.width;
                float* row_y = shift_y + static_cast<std::size_t>(y) * f.width;
                for (int x = bx0; x < bx1; ++x) {
                    const float dx = static_cast<float>(x + x0) - c.centre.x;
                    const float rest = std::max(1.0f - (dx * dx + dy * dy) * inv_r2, 0.0f);
                    const float falloff = rest * rest;
                    row_x[x] += -c.shift.x * falloff - c.scale * falloff * dx;
                    row_y[x] += -c.shift.y * falloff - c.scale * falloff * dy;
                }
            }
        }
        auto* positions = arena.allocate_array<float>(pixels * 2);
        for (int y = 0; y < f.height; ++y) {
            const std::size_t row = static_cast<std::size_t>(y) * f.width;
            for (int x = 0; x < f.width; ++x) {
                positions[(row + x) * 2] = static_cast<float>(x) + shift_x[row + x];
                positions[(row + x) * 2 + 1] = static_cast<float>(y) + shift_y[row + x];
            }
        }
        auto* warped = arena.allocate_array<std::uint8_t>(pixels * 3);
        kernels::remap_bilinear(w.image, f.width, f.height,
                                       static_cast<std::ptrdiff_t>(f.width) * 3, 3, positions,
                                       pixels, warped);
        result = warped;
        if (trace) trace->warp = positions;
    }
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
