// Blending the user's face into the template: a Laplacian-pyramid (multi-band) blend of the
// difference top - base, so that a pixel whose weight is 0 at every level keeps base exactly,
// and a Poisson option that starts from it. Planes are single-channel float, row-major.
#include <algorithm>
#include <cmath>

#include "fusion/fusion_internal.h"
#include "kernels/fusion_kernels.h"

namespace facekit::fusion {

namespace {

struct Level {
    float* data;
    int width, height;
    std::size_t size() const { return static_cast<std::size_t>(width) * height; }
    float* row(int y) const { return data + static_cast<std::size_t>(y) * width; }
};

Level level(int width, int height, Arena& arena) {
    return {arena.allocate_array<float>(static_cast<std::size_t>(width) * height), width, height};
}

int clamp_index(int i, int n) { return i < 0 ? 0 : (i >= n ? n - 1 : i); }

// The 5-tap [1 4 6 4 1] / 16 filter and 2x decimation, borders replicated.
Level down(const Level& src, Arena& arena) {
    const int w = (src.width + 1) / 2, h = (src.height + 1) / 2;
    Level tmp = level(w, src.height, arena), out = level(w, h, arena);
    for (int y = 0; y < src.height; ++y) {
        const float* s = src.row(y);
        float* t = tmp.row(y);
        for (int x = 0; x < w; ++x) {
            auto at = [&](int i) { return s[clamp_index(2 * x + i, src.width)]; };
            t[x] = (((at(-2) + at(2)) + (at(-1) + at(1)) * 4.0f) + at(0) * 6.0f) * 0.0625f;
        }
    }
    for (int y = 0; y < h; ++y) {
        auto r = [&](int i) { return tmp.row(clamp_index(2 * y + i, src.height)); };
        kernels::pyr_down_rows(r(-2), r(-1), r(0), r(1), r(2), static_cast<std::size_t>(w),
                               out.row(y));
    }
    return out;
}

// 2x upsampling of `src` to width x height (the inverse of down's sizes), borders replicated.
Level up(const Level& src, int width, int height, Arena& arena) {
    Level tmp = level(width, src.height, arena), out = level(width, height, arena);
    for (int y = 0; y < src.height; ++y) {
        const float* s = src.row(y);
        float* t = tmp.row(y);
        for (int i = 0; i < src.width; ++i) {
            const float a = s[clamp_index(i - 1, src.width)], b = s[i];
            const float c = s[clamp_index(i + 1, src.width)];
            if (2 * i < width) t[2 * i] = ((a + c) + b * 6.0f) * 0.125f;
            if (2 * i + 1 < width) t[2 * i + 1] = (b + c) * 0.5f;
        }
    }
    float* spare = arena.allocate_array<float>(static_cast<std::size_t>(width));
    for (int i = 0; i < src.height; ++i) {
        float* odd = 2 * i + 1 < height ? out.row(2 * i + 1) : spare;
        kernels::pyr_up_rows(tmp.row(clamp_index(i - 1, src.height)), tmp.row(i),
                             tmp.row(clamp_index(i + 1, src.height)),
                             static_cast<std::size_t>(width), out.row(2 * i), odd);
    }
    return out;
}

}  // namespace

void multiband(const Frame& f, const std::uint8_t* base, const std::uint8_t* top,
               const float* alpha, int levels, std::uint8_t* out) {
    Arena& arena = f.arena;
    const std::size_t pixels = static_cast<std::size_t>(f.width) * f.height;
    // The weight's Gaussian pyramid.
    Level* mask = arena.allocate_array<Level>(static_cast<std::size_t>(levels) + 1);
    mask[0] = {const_cast<float*>(alpha), f.width, f.height};
    for (int k = 1; k <= levels; ++k) mask[k] = down(mask[k - 1], arena);
    Level* gauss = arena.allocate_array<Level>(static_cast<std::size_t>(levels) + 1);
    for (int c = 0; c < 3; ++c) {
        gauss[0] = level(f.width, f.height, arena);
        for (std::size_t i = 0; i < pixels; ++i)
            gauss[0].data[i] = static_cast<float>(top[3 * i + c]) - static_cast<float>(base[3 * i + c]);
        for (int k = 1; k <= levels; ++k) gauss[k] = down(gauss[k - 1], arena);
        // Laplacian bands in place: G_k - up(G_k+1).
        for (int k = 0; k < levels; ++k) {
            const Level u = up(gauss[k + 1], gauss[k].width, gauss[k].height, arena);
            for (std::size_t i = 0; i < u.size(); ++i) gauss[k].data[i] -= u.data[i];
        }
        // Collapse, each band weighted by the mask at its scale.
        Level acc = level(gauss[levels].width, gauss[levels].height, arena);
        kernels::masked_add(gauss[levels].data, mask[levels].data, acc.size(), acc.data);
        for (int k = levels - 1; k >= 0; --k) {
            acc = up(acc, gauss[k].width, gauss[k].height, arena);
            kernels::masked_add(gauss[k].data, mask[k].data, acc.size(), acc.data);
        }
        for (std::size_t i = 0; i < pixels; ++i) {
            const float v = static_cast<float>(base[3 * i + c]) + acc.data[i];
            out[3 * i + c] = static_cast<std::uint8_t>(std::clamp(std::lround(v), 0L, 255L));
        }
    }
}

void poisson(const Frame& f, const std::uint8_t* base, const std::uint8_t* top,
             const float* alpha, int iterations, std::uint8_t* out) {
    Arena& arena = f.arena;
    const int w = f.width, h = f.height;
    if (w < 3 || h < 3) return;
    const std::size_t pixels = static_cast<std::size_t>(w) * h;
    float* d = arena.allocate_array<float>(pixels);
    float* guide = arena.allocate_array<float>(pixels);
    float* source = arena.allocate_array<float>(pixels);
    constexpr float omega = 1.85f;
    for (int c = 0; c < 3; ++c) {
        for (std::size_t i = 0; i < pixels; ++i) {
            source[i] = alpha[i] * (static_cast<float>(top[3 * i + c]) - static_cast<float>(base[3 * i + c]));
            d[i] = alpha[i] > 0
                       ? static_cast<float>(out[3 * i + c]) - static_cast<float>(base[3 * i + c])
                       : 0.0f;
        }
        // The guidance: the discrete Laplacian of the weighted difference.
        for (int y = 1; y < h - 1; ++y)
            for (int x = 1; x < w - 1; ++x) {
                const std::size_t i = static_cast<std::size_t>(y) * w + x;
                guide[i] = source[i - 1] + source[i + 1] + source[i - w] + source[i + w] - 4.0f * source[i];
            }
        // Red-black successive over-relaxation inside the weight's support; d stays 0 (the
        // template) outside it and on the region's edge.
        for (int it = 0; it < iterations; ++it)
            for (int parity = 0; parity < 2; ++parity)
                for (int y = 1; y < h - 1; ++y)
                    for (int x = 1 + ((y + parity) & 1); x < w - 1; x += 2) {
                        const std::size_t i = static_cast<std::size_t>(y) * w + x;
                        if (!(alpha[i] > 0)) continue;
                        const float target = (d[i - 1] + d[i + 1] + d[i - w] + d[i + w] - guide[i]) * 0.25f;
                        d[i] += omega * (target - d[i]);
                    }
        for (std::size_t i = 0; i < pixels; ++i) {
            const float v = static_cast<float>(base[3 * i + c]) + (alpha[i] > 0 ? d[i] : 0.0f);
            out[3 * i + c] = static_cast<std::uint8_t>(std::clamp(std::lround(v), 0L, 255L));
        }
    }
}

}  // namespace facekit::fusion
