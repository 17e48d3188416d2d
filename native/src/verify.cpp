// dlib's face chip, re-derived from its behaviour (see verify.h); checked byte for byte
// against dlib-bin in tests/test_verify.py.
#include "facekit/verify.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace facekit {

namespace {

// dlib's 5-point mean-face template, in units of the unpadded chip.
constexpr double kTemplate[5][2] = {
    {0.8595674595992, 0.2134981538014}, {0.6460604764104, 0.2289674387677},
    {0.1205750620789, 0.2137274526848}, {0.3340850613712, 0.2290642403242},
    {0.4901123135679, 0.6277975316475}};

struct Rect {
    double l, t, r, b;
};

double area(const Rect& q) {
    if (q.l > q.r || q.t > q.b) return 0.0;
    return (q.r - q.l + 1.0) * (q.b - q.t + 1.0);
}

// One pyramid level's rectangle (dlib's pyramid_down<2> mapping; x and y offsets differ).
Rect down(const Rect& q) { return {q.l / 2.0 - 1.25, q.t / 2.0 - 0.75, q.r / 2.0 - 1.25, q.b / 2.0 - 0.75}; }

struct Corners {
    double x[4], y[4];  // tl, tr, bl, br, rotated about the rectangle's centre
};

Corners rotated(const Rect& q, double angle) {
    const double cx = (q.l + q.r) / 2.0, cy = (q.t + q.b) / 2.0;
    const double c = std::cos(angle), s = std::sin(angle);
    const double xs[4] = {q.l, q.r, q.l, q.r}, ys[4] = {q.t, q.t, q.b, q.b};
    Corners out{};
    for (int i = 0; i < 4; ++i) {
        const double dx = xs[i] - cx, dy = ys[i] - cy;
        out.x[i] = c * dx - s * dy + cx;
        out.y[i] = s * dx + c * dy + cy;
    }
    return out;
}

struct Rgb {
    std::uint8_t* data;
    int width, height;
};

// [1 4 6 4 1] x [1 4 6 4 1] / 256 (truncating), halving: (h - 3) / 2 x (w - 3) / 2.
Rgb pyramid_down(const Rgb& in, Arena& arena) {
    if (in.width <= 8 || in.height <= 8) return {nullptr, 0, 0};
    const int ow = (in.width - 3) / 2, oh = (in.height - 3) / 2;
    auto* tmp = arena.allocate_array<std::uint32_t>(static_cast<std::size_t>(in.height) * ow * 3);
    static constexpr std::uint32_t k[5] = {1, 4, 6, 4, 1};
    for (int y = 0; y < in.height; ++y) {
        const std::uint8_t* row = in.data + static_cast<std::size_t>(y) * in.width * 3;
        std::uint32_t* t = tmp + static_cast<std::size_t>(y) * ow * 3;
        for (int x = 0; x < ow; ++x)
            for (int c = 0; c < 3; ++c) {
                std::uint32_t sum = 0;
                for (int j = 0; j < 5; ++j) sum += k[j] * row[(2 * x + j) * 3 + c];
                t[x * 3 + c] = sum;
            }
    }
    Rgb out{arena.allocate_array<std::uint8_t>(static_cast<std::size_t>(oh) * ow * 3), ow, oh};
    for (int y = 0; y < oh; ++y)
        for (int x = 0; x < ow; ++x)
            for (int c = 0; c < 3; ++c) {
                std::uint32_t sum = 0;
                for (int i = 0; i < 5; ++i) sum += k[i] * tmp[(static_cast<std::size_t>(2 * y + i) * ow + x) * 3 + c];
                out.data[(static_cast<std::size_t>(y) * ow + x) * 3 + c] = static_cast<std::uint8_t>(sum / 256);
            }
    return out;
}

}  // namespace

DlibRect dlib_box_from_mesh(const float* landmarks, std::ptrdiff_t stride) {
    auto at = [&](int i, int d) { return static_cast<double>(landmarks[i * stride + d]); };
    double eye_l[2], eye_r[2], mouth[2];
    for (int d = 0; d < 2; ++d) {
        eye_l[d] = (at(33, d) + at(133, d)) / 2;
        eye_r[d] = (at(263, d) + at(362, d)) / 2;
        mouth[d] = (at(61, d) + at(291, d)) / 2;
    }
    const double u[2] = {eye_r[0] - eye_l[0], eye_r[1] - eye_l[1]};
    const double v[2] = {mouth[0] - (eye_l[0] + eye_r[0]) / 2, mouth[1] - (eye_l[1] + eye_r[1]) / 2};
    const double cx = (eye_l[0] + eye_r[0] + mouth[0]) / 3 + kBoxShift[0] * u[0] + kBoxShift[1] * v[0];
    const double cy = (eye_l[1] + eye_r[1] + mouth[1]) / 3 + kBoxShift[0] * u[1] + kBoxShift[1] * v[1];
    const double half = (kBoxSide[0] * std::hypot(u[0], u[1]) + kBoxSide[1] * std::hypot(v[0], v[1])) / 2;
    if (!std::isfinite(cx) || !std::isfinite(cy) || !(half > 0.5))
        throw std::invalid_argument("the face's landmarks are degenerate");
    return {cx - half, cy - half, cx + half, cy + half};
}

bool chip_points(const ImageView& image, const float* landmarks, std::ptrdiff_t stride,
                 const HogFaceDetector& detector, const ShapePredictor& predictor,
                 double out[5][2], Arena& arena) {
    if (predictor.parts() != 5) throw std::invalid_argument("the chip needs a 5-point shape predictor");
    const DlibRect estimate = dlib_box_from_mesh(landmarks, stride);
    DlibRect box = estimate;
    const bool found = detector.find(image, estimate, box, arena);
    double* points = arena.allocate_array<double>(10);
    predictor.predict(image, box, points, arena);
    for (int p = 0; p < 5; ++p)
        for (int d = 0; d < 2; ++d) out[p][d] = std::floor(points[2 * p + d] + 0.5);
    return found;
}

std::uint8_t* face_chip(const ImageView& image, const double points[5][2], int size,
                        double padding, Arena& arena) {
    validate(image);
    if (size < 8 || size > 1024) throw std::invalid_argument("chip size must lie in 8..1024");
    if (!(padding >= 0.0 && padding <= 2.0)) throw std::invalid_argument("chip padding must lie in 0..2");
    for (int i = 0; i < 5; ++i)
        if (!std::isfinite(points[i][0]) || !std::isfinite(points[i][1]))
            throw std::invalid_argument("chip points must be finite");

    // Least-squares similarity (closed form) from the padded template to the points.
    double from[5][2], mf[2] = {0, 0}, mt[2] = {0, 0};
    for (int i = 0; i < 5; ++i) {
        for (int d = 0; d < 2; ++d) {
            from[i][d] = (padding + kTemplate[i][d]) / (2.0 * padding + 1.0) * size;
            mf[d] += from[i][d] / 5.0;
            mt[d] += points[i][d] / 5.0;
        }
    }
    double den = 0, dot = 0, cross = 0;
    for (int i = 0; i < 5; ++i) {
        const double fx = from[i][0] - mf[0], fy = from[i][1] - mf[1];
        const double gx = points[i][0] - mt[0], gy = points[i][1] - mt[1];
        den += fx * fx + fy * fy;
        dot += fx * gx + fy * gy;
        cross += fx * gy - fy * gx;
    }
    const double a = dot / den, b = cross / den;
    const double angle = std::atan2(b, a), scale = std::hypot(a, b);
    if (!(scale > 1e-6)) throw std::invalid_argument("chip points are degenerate");
    const double half = size / 2.0;
    const double cx = a * half - b * half + (mt[0] - (a * mf[0] - b * mf[1]));
    const double cy = b * half + a * half + (mt[1] - (b * mf[0] + a * mf[1]));
    const double extent = size * scale - 1.0;
    const Rect rect{cx - extent / 2, cy - extent / 2, cx + extent / 2, cy + extent / 2};

    // Pyramid depth, and the source region (rotated rectangle's bounds, grown, clipped).
    const double pixels = static_cast<double>(size) * size;
    int depth = 0;
    double grow = 2.0;
    for (Rect r = down(rect); area(r) > pixels; r = down(r)) ++depth, grow = grow * 2 + 2;
    const Corners corners = rotated(rect, angle);
    const double lo_x = std::max(*std::min_element(corners.x, corners.x + 4) - grow, 0.0);
    const double lo_y = std::max(*std::min_element(corners.y, corners.y + 4) - grow, 0.0);
    const double hi_x = std::min(*std::max_element(corners.x, corners.x + 4) + grow, image.width - 1.0);
    const double hi_y = std::min(*std::max_element(corners.y, corners.y + 4) + grow, image.height - 1.0);
    const int bl = static_cast<int>(std::floor(lo_x + 0.5)), bt = static_cast<int>(std::floor(lo_y + 0.5));
    const int br = static_cast<int>(std::floor(hi_x + 0.5)), bb = static_cast<int>(std::floor(hi_y + 0.5));

    // The source region as packed RGB in the arena (any input format).
    Rgb source{nullptr, std::max(br - bl + 1, 0), std::max(bb - bt + 1, 0)};
    if (source.width > 0 && source.height > 0) {
        source.data = arena.allocate_array<std::uint8_t>(static_cast<std::size_t>(source.width) * source.height * 3);
        copy_rgb(image, bl, bt, source.width, source.height, source.data);
    }
    Rgb level = source;
    Rect r{rect.l - bl, rect.t - bt, rect.r - bl, rect.b - bt};
    for (int i = 0; i < depth && area(down(r)) > pixels; ++i) {
        level = pyramid_down(level, arena);
        r = down(r);
    }

    // Bilinear sampling along the rotated rectangle's edges.
    auto* chip = arena.allocate_array<std::uint8_t>(static_cast<std::size_t>(size) * size * 3);
    const Corners c = rotated(r, angle);
    const double ex_x = (c.x[1] - c.x[0]) / (size - 1), ex_y = (c.y[1] - c.y[0]) / (size - 1);
    const double ey_x = (c.x[2] - c.x[0]) / (size - 1), ey_y = (c.y[2] - c.y[0]) / (size - 1);
    for (int row = 0; row < size; ++row)
        for (int col = 0; col < size; ++col) {
            const double x = c.x[0] + col * ex_x + row * ey_x;
            const double y = c.y[0] + col * ex_y + row * ey_y;
            std::uint8_t* out = chip + (static_cast<std::size_t>(row) * size + col) * 3;
            const long left = static_cast<long>(std::floor(x)), top = static_cast<long>(std::floor(y));
            if (level.data == nullptr || left < 0 || top < 0 || left + 1 >= level.width || top + 1 >= level.height) {
                out[0] = out[1] = out[2] = 0;
                continue;
            }
            const double fx = x - left, fy = y - top;
            const std::uint8_t* p = level.data + (static_cast<std::size_t>(top) * level.width + left) * 3;
            const std::uint8_t* q = p + static_cast<std::size_t>(level.width) * 3;
            for (int ch = 0; ch < 3; ++ch) {
                const double v = (1 - fy) * ((1 - fx) * p[ch] + fx * p[3 + ch]) +
                                 fy * ((1 - fx) * q[ch] + fx * q[3 + ch]);
                out[ch] = static_cast<std::uint8_t>(std::clamp(v, 0.0, 255.0));
            }
        }
    return chip;
}

void normalize_chip(const std::uint8_t* chip, int size, const float mean[3], float scale,
                    float* out) {
    const std::size_t n = static_cast<std::size_t>(size) * size;
    for (std::size_t i = 0; i < n; ++i)
        for (int c = 0; c < 3; ++c) out[i * 3 + c] = (static_cast<float>(chip[i * 3 + c]) - mean[c]) * scale;
}

double descriptor_distance(const float* a, const float* b, int count) {
    double sum = 0;
    for (int i = 0; i < count; ++i) {
        const double d = static_cast<double>(a[i]) - b[i];
        sum += d * d;
    }
    return std::sqrt(sum);
}

}  // namespace facekit
