// Skin effects: smoothing (a guided filter), whitening, rosy, dark circles, teeth, sharpen.
#include <algorithm>
#include <cmath>
#include <cstring>

#include "beauty/beauty_internal.h"

namespace facekit::beauty {

namespace {

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

}  // namespace

void smoothing(const Context& c, float strength) {
    const int radius = std::max(2, static_cast<int>(0.022f * c.g.face_width));
    guided_filter(c.f, c.w, radius, 600.0f);
    blend(c.w, c.masks.skin, 0.85f * strength);
}

void whitening(const Context& c, float strength) {
    // 0.62 (0.6 with the polygon mask): the skin mask is below 255 on skin that looks less like
    // the samples, and the face keeps at least the lift it had. The curve lifts mid-tones most,
    // so skin in shadow (a neck under the jaw) would get less than the face and show a step:
    // values below the skin's median get at least the median's lift.
    constexpr float alpha = 0.62f;
    std::uint8_t table[256];
    lift_table(alpha, table);
    const int m = c.masks.skin_luma;
    if (m > 0) {
        const float floor = alpha * static_cast<float>(m) * static_cast<float>(255 - m) / 255.0f;
        for (int v = 0; v < 256; ++v) {
            const float lift = v <= m ? floor : std::min(floor, alpha * static_cast<float>(255 - v));
            table[v] = std::max(table[v], clamp_u8(static_cast<int>(std::lround(static_cast<float>(v) + lift))));
        }
    }
    masked(c.f, c.w, c.masks.skin, strength, [&](const Work& part) { apply_table(part, table); });
}

void rosy(const Context& c, float strength) {
    masked(c.f, c.w, c.masks.skin, 0.6f * strength, [&](const Work& part) { rosy_target(part); });
}

void dark_circles(const Context& c, float strength) {
    const FaceGeometry& g = c.g;
    Plane under = c.f.plane();
    for (Vec2 eye : {g.eye_left, g.eye_right}) {
        const Vec2 centre = eye + g.down * (0.55f * g.eye_width);
        ArenaVector<Vec2> ellipse{ArenaAllocator<Vec2>(c.f.arena)};
        ellipse.reserve(24);
        for (int k = 0; k < 24; ++k) {
            const float t = 6.2831853f * static_cast<float>(k) / 24.0f;
            ellipse.push_back(centre + g.across * (0.6f * g.eye_width * std::cos(t)) +
                              g.down * (0.22f * g.eye_width * std::sin(t)));
        }
        fill_polygon(c.f, ellipse, under);
    }
    subtract(under, c.masks.features);
    feather(c.f, under, c.soft, 2);
    // Only where the pixels look like skin (not glasses frames, hair or a hand).
    kernels::mask_product(under.data, c.masks.likelihood.data, under.size(), under.data);
    std::uint8_t table[256];
    lift_table(0.5f, table);
    masked(c.f, c.w, under, strength, [&](const Work& part) { apply_table(part, table); });
}

void teeth_whitening(const Context& c, float strength) {
    const Frame& f = c.f;
    Plane inner = f.plane();
    std::memcpy(inner.data, c.masks.mouth.data, inner.size());
    feather(f, inner, 1, 1);
    Plane weight = f.plane();
    const auto [first, last] = rows_in_use(inner);
    if (first < last) {
        const std::size_t offset = static_cast<std::size_t>(first) * f.width;
        const Work part = rows(c.w, f.width, first, last);
        teeth_target(part, inner.data + offset, weight.data + offset);
        kernels::blend(part.image, part.target, weight.data + offset, q8(strength), part.pixels,
                       3, part.image);
    }
}

void sharpen(const Context& c, float strength) {
    sharpened(c.f, c.w);
    blend(c.w, c.masks.face, 0.8f * strength);
}

}  // namespace facekit::beauty
