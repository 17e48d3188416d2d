// Blending the user's face into the template: a Laplacian-pyramid (multi-band) blend of the
// difference top - base, so that a pixel whose weight is 0 at every level keeps base exactly,
// and a Poisson option that starts from it. Planes are single-channel float, row-major.
#include <algorithm>
#include <cmath>
#include <cstring>

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

// Rounded to the nearest byte (halves up; NaN to 0).
std::uint8_t to_byte(float v) {
    const float clamped = std::min(std::max(0.0f, v), 255.0f);  // max(0, NaN) is 0
    return static_cast<std::uint8_t>(static_cast<int>(clamped + 0.5f));
}

int clamp_index(int i, int n) { return i < 0 ? 0 : (i >= n ? n - 1 : i); }

// Scratch for the separable filters, one per pyramid level, reused by every channel.
struct Scratch {
    Level* rows;  // the horizontal pass's output at each level
    float* spare;  // an odd output row that falls past the bottom
};

// src (one level) filtered and decimated into out (the next level's size).
void down(const Level& src, const Level& tmp, const Level& out) {
    for (int y = 0; y < src.height; ++y)
        kernels::pyr_down_cols(src.row(y), src.width, tmp.row(y), out.width);
    for (int y = 0; y < out.height; ++y) {
        auto r = [&](int i) { return tmp.row(clamp_index(2 * y + i, src.height)); };
        kernels::pyr_down_rows(r(-2), r(-1), r(0), r(1), r(2), static_cast<std::size_t>(out.width),
                               out.row(y));
    }
}

// src upsampled 2x into out (the previous level's size).
void up(const Level& src, const Level& tmp, float* spare, const Level& out) {
    for (int y = 0; y < src.height; ++y)
        kernels::pyr_up_cols(src.row(y), src.width, tmp.row(y), out.width);
    for (int i = 0; i < src.height; ++i) {
        float* odd = 2 * i + 1 < out.height ? out.row(2 * i + 1) : spare;
        kernels::pyr_up_rows(tmp.row(clamp_index(i - 1, src.height)), tmp.row(i),
                             tmp.row(clamp_index(i + 1, src.height)),
                             static_cast<std::size_t>(out.width), out.row(2 * i), odd);
    }
}

}  // namespace

void multiband(const Frame& f, const std::uint8_t* base, const std::uint8_t* top,
               const float* alpha, int levels, std::uint8_t* out) {
    Arena& arena = f.arena;
    const std::size_t pixels = static_cast<std::size_t>(f.width) * f.height;
    const std::size_t n = static_cast<std::size_t>(levels) + 1;
    // Sizes, the weight's Gaussian pyramid, and buffers every channel reuses: its Gaussian (then
    // Laplacian) pyramid, an upsampled level, the collapsed sum and the filters' scratch.
    Level* mask = arena.allocate_array<Level>(n);
    Level* band = arena.allocate_array<Level>(n);
    Level* wide = arena.allocate_array<Level>(n);  // horizontal pass at each level's width
    Level* tall = arena.allocate_array<Level>(n);  // horizontal pass at each next level's width
    Level* acc = arena.allocate_array<Level>(n);
    mask[0] = {const_cast<float*>(alpha), f.width, f.height};
    for (std::size_t k = 0; k < n; ++k) {
        const int w = k == 0 ? f.width : (band[k - 1].width + 1) / 2;
        const int h = k == 0 ? f.height : (band[k - 1].height + 1) / 2;
        band[k] = k == 0 ? Level{nullptr, w, h} : level(w, h, arena);  // level 0: per channel
        acc[k] = k == 0 ? Level{nullptr, w, h} : level(w, h, arena);
        if (k > 0) mask[k] = level(w, h, arena);
        if (k + 1 < n) {
            tall[k] = {nullptr, (w + 1) / 2, h};  // down: rows of level k at level k+1's width
            wide[k] = {nullptr, w, (h + 1) / 2};  // up: rows of level k+1 at level k's width
        }
    }
    // The filters' scratch lives only within one down() or up(): one buffer, the largest
    // (level 0's), serves them all (fewer pages to touch and wipe).
    float* scratch = arena.allocate_array<float>(std::max(tall[0].size(), wide[0].size()));
    for (std::size_t k = 0; k + 1 < n; ++k) tall[k].data = wide[k].data = scratch;
    float* spare = arena.allocate_array<float>(static_cast<std::size_t>(f.width));
    for (std::size_t k = 1; k < n; ++k) down(mask[k - 1], tall[k - 1], mask[k]);
    // The difference, one plane per channel, and a spare plane: the pixels are split and
    // joined again in one pass each (a strided pass per channel costs several times more).
    // Channel c's sum goes to the plane channel c - 1's difference has freed (the first to
    // the spare), so four planes hold the three differences and the three sums.
    float* planes = arena.allocate_array<float>(4 * pixels);
    float* sums[3] = {planes + 3 * pixels, planes, planes + pixels};
    kernels::rgb_difference(top, base, pixels, planes, planes + pixels, planes + 2 * pixels);
    for (int c = 0; c < 3; ++c) {
        band[0].data = planes + c * pixels;  // the Laplacian overwrites it
        acc[0].data = sums[c];
        for (std::size_t k = 1; k < n; ++k) down(band[k - 1], tall[k - 1], band[k]);
        // Laplacian bands in place: G_k - up(G_k+1) (acc[k] is free scratch here).
        for (std::size_t k = 0; k + 1 < n; ++k) {
            up(band[k + 1], wide[k], spare, acc[k]);
            for (std::size_t i = 0; i < band[k].size(); ++i) band[k].data[i] -= acc[k].data[i];
        }
        // Collapse, each band weighted by the mask at its scale.
        const std::size_t last = n - 1;
        std::fill(acc[last].data, acc[last].data + acc[last].size(), 0.0f);
        kernels::masked_add(band[last].data, mask[last].data, acc[last].size(), acc[last].data);
        for (std::size_t k = last; k-- > 0;) {
            up(acc[k + 1], wide[k], spare, acc[k]);
            kernels::masked_add(band[k].data, mask[k].data, acc[k].size(), acc[k].data);
        }
    }
    kernels::rgb_add_round(base, sums[0], sums[1], sums[2], pixels, out);
}

void match_boundary(const Frame& f, const std::uint8_t* base, const std::uint8_t* mask,
                    int depth, std::uint8_t* top) {
    Arena& arena = f.arena;
    const int w = f.width, h = f.height, cell = kMembraneCell;
    const int cw = (w + cell - 1) / cell, ch = (h + cell - 1) / cell;
    const std::size_t cells = static_cast<std::size_t>(cw) * ch;
    // Each row's span of non-zero mask, so that the full-resolution passes skip the rest.
    int* span = arena.allocate_array<int>(2 * static_cast<std::size_t>(h));
    for (int y = 0; y < h; ++y) {
        const std::uint8_t* row = mask + static_cast<std::size_t>(y) * w;
        int lo = 0, hi = w;
        auto zero8 = [row](int at) {  // eight zero bytes, read without alignment assumptions
            std::uint64_t v;
            std::memcpy(&v, row + at, sizeof v);
            return v == 0;
        };
        while (lo + 8 <= hi && zero8(lo)) lo += 8;
        while (lo < hi && !row[lo]) ++lo;
        while (hi - 8 >= lo && zero8(hi - 8)) hi -= 8;
        while (hi > lo && !row[hi - 1]) --hi;
        span[2 * y] = lo, span[2 * y + 1] = hi;
    }
    // Per cell: the sum of base - top over the edge of the mask's half-weight region (pixels
    // >= 128 with a 4-neighbour under it or outside the frame) and their count; kind 1 for a
    // cell with a pixel in that region, 2 for a cell within one cell of a row's non-zero span
    // (it gets a value by extension below, so that the interpolation never reads an empty
    // cell), 0 otherwise.
    float* sum = arena.allocate_array<float>(cells * 3);
    int* count = arena.allocate_array<int>(cells);
    std::uint8_t* kind = arena.allocate_array<std::uint8_t>(cells);
    std::uint8_t* near = arena.allocate_array<std::uint8_t>(cells);
    std::fill(sum, sum + cells * 3, 0.0f);
    std::fill(count, count + cells, 0);
    std::fill(kind, kind + cells, std::uint8_t{0});
    std::fill(near, near + cells, std::uint8_t{0});
    for (int y = 0; y < h; ++y) {
        const int x0 = span[2 * y], x1 = span[2 * y + 1];
        if (x0 >= x1) continue;
        const std::size_t cy = static_cast<std::size_t>(y / cell) * cw;
        std::fill(near + cy + x0 / cell, near + cy + (x1 - 1) / cell + 1, std::uint8_t{1});
        const std::uint8_t* row = mask + static_cast<std::size_t>(y) * w;
        const std::uint8_t* up = y > 0 ? row - w : nullptr;
        const std::uint8_t* down = y + 1 < h ? row + w : nullptr;
        for (int x = x0; x < x1; ++x) {
            if (row[x] < 128) continue;
            const std::size_t c = cy + x / cell;
            kind[c] = 1;
            const bool inner = x > 0 && x + 1 < w && up && down && row[x - 1] >= 128 &&
                               row[x + 1] >= 128 && up[x] >= 128 && down[x] >= 128;
            if (inner) continue;
            const std::size_t i = static_cast<std::size_t>(y) * w + x;
            for (int k = 0; k < 3; ++k)
                sum[3 * c + k] += static_cast<float>(base[3 * i + k]) - static_cast<float>(top[3 * i + k]);
            ++count[c];
        }
    }
    for (int y = 0; y < ch; ++y)
        for (int x = 0; x < cw; ++x) {
            std::uint8_t& k = kind[static_cast<std::size_t>(y) * cw + x];
            if (k) continue;
            for (int ny = std::max(0, y - 1); ny <= std::min(ch - 1, y + 1) && !k; ++ny)
                for (int nx = std::max(0, x - 1); nx <= std::min(cw - 1, x + 1); ++nx)
                    if (near[static_cast<std::size_t>(ny) * cw + nx]) k = 2;
        }
    // The membrane on the cells: fixed where the edge passes and deep inside, harmonic over the
    // other cells of the region (successive over-relaxation from the edge's mean; neighbours
    // outside the region are left out, a free boundary).
    float* m = arena.allocate_array<float>(cells * 3);
    float start[3] = {0, 0, 0};
    std::size_t edge_cells = 0;
    for (std::size_t c = 0; c < cells; ++c) {
        if (!count[c]) continue;
        for (int k = 0; k < 3; ++k) start[k] += sum[3 * c + k] / static_cast<float>(count[c]);
        ++edge_cells;
    }
    if (edge_cells == 0) return;
    for (float& v : start) v /= static_cast<float>(edge_cells);
    // Cells `depth` pixels or more inside the edge (4-neighbour steps over the region's cells,
    // breadth first) are held at 0: the membrane fades out there, so the face's inside keeps
    // the skin colour the transfer gave it rather than the colour of its rim.
    std::uint32_t* queue = arena.allocate_array<std::uint32_t>(cells);
    int* steps = arena.allocate_array<int>(cells);
    std::size_t head = 0, tail = 0;
    for (std::size_t c = 0; c < cells; ++c) {
        steps[c] = count[c] ? 0 : -1;
        if (count[c]) queue[tail++] = static_cast<std::uint32_t>(c);
    }
    const int far = std::max(2, (depth + cell - 1) / cell);
    while (head < tail) {
        const std::size_t c = queue[head++];
        const int x = static_cast<int>(c % cw), y = static_cast<int>(c / cw);
        auto visit = [&](bool ok, std::size_t d) {
            if (ok && kind[d] == 1 && steps[d] < 0)
                steps[d] = steps[c] + 1, queue[tail++] = static_cast<std::uint32_t>(d);
        };
        visit(x > 0, c - 1), visit(x + 1 < cw, c + 1), visit(y > 0, c - cw), visit(y + 1 < ch, c + cw);
    }
    std::uint32_t* unknown = queue;  // reused: the free cells
    std::size_t free_cells = 0;
    for (std::size_t c = 0; c < cells; ++c) {
        const bool deep = kind[c] == 1 && !count[c] && (steps[c] < 0 || steps[c] >= far);
        for (int k = 0; k < 3; ++k)
            m[3 * c + k] = count[c] ? sum[3 * c + k] / static_cast<float>(count[c]) : (deep ? 0.0f : start[k]);
        if (!count[c] && kind[c] == 1 && !deep) unknown[free_cells++] = static_cast<std::uint32_t>(c);
    }
    constexpr float omega = 1.9f;
    const int rounds = 4 * far;
    for (int r = 0; r < rounds; ++r)
        for (std::size_t j = 0; j < free_cells; ++j) {
            const std::size_t c = unknown[j];
            const int x = static_cast<int>(c % cw), y = static_cast<int>(c / cw);
            float acc[3] = {0, 0, 0};
            int n = 0;
            auto add = [&](bool ok, std::size_t d) {
                if (!ok || kind[d] != 1) return;
                for (int k = 0; k < 3; ++k) acc[k] += m[3 * d + k];
                ++n;
            };
            add(x > 0, c - 1), add(x + 1 < cw, c + 1), add(y > 0, c - cw), add(y + 1 < ch, c + cw);
            if (n == 0) continue;
            for (int k = 0; k < 3; ++k)
                m[3 * c + k] += omega * (acc[k] / static_cast<float>(n) - m[3 * c + k]);
        }
    // Past the half-weight edge (the feathered rim and one cell beyond), cells outward ring by
    // ring take the mean of their already-set neighbours: the membrane continues instead of
    // dropping to 0.
    for (bool grew = true; grew;) {
        grew = false;
        for (std::size_t c = 0; c < cells; ++c) {
            if (kind[c] != 2) continue;
            const int x = static_cast<int>(c % cw), y = static_cast<int>(c / cw);
            float acc[3] = {0, 0, 0};
            int n = 0;
            for (int ny = std::max(0, y - 1); ny <= std::min(ch - 1, y + 1); ++ny)
                for (int nx = std::max(0, x - 1); nx <= std::min(cw - 1, x + 1); ++nx) {
                    const std::size_t d = static_cast<std::size_t>(ny) * cw + nx;
                    if (kind[d] != 1) continue;
                    for (int k = 0; k < 3; ++k) acc[k] += m[3 * d + k];
                    ++n;
                }
            if (n == 0) continue;
            for (int k = 0; k < 3; ++k) m[3 * c + k] = acc[k] / static_cast<float>(n);
            kind[c] = 3;  // set in this ring: a neighbour for the next ring only
            grew = true;
        }
        for (std::size_t c = 0; c < cells; ++c) kind[c] = kind[c] == 3 ? 1 : kind[c];
    }
    // Bilinear between cell centres: a row of cells blended vertically once per pixel row,
    // then across with per-column cells and weights computed once; added to top wherever the
    // mask is non-zero.
    float* line = arena.allocate_array<float>(static_cast<std::size_t>(cw) * 3);
    int* column = arena.allocate_array<int>(static_cast<std::size_t>(w));
    float* across = arena.allocate_array<float>(static_cast<std::size_t>(w));
    for (int x = 0; x < w; ++x) {
        const float fx = std::clamp((static_cast<float>(x) + 0.5f) / cell - 0.5f, 0.0f,
                                    static_cast<float>(cw - 1));
        column[x] = std::min(static_cast<int>(fx), cw - 2 < 0 ? 0 : cw - 2);
        across[x] = fx - static_cast<float>(column[x]);
    }
    for (int y = 0; y < h; ++y) {
        const int x0 = span[2 * y], x1 = span[2 * y + 1];
        if (x0 >= x1) continue;
        const float fy = std::clamp((static_cast<float>(y) + 0.5f) / cell - 0.5f, 0.0f,
                                    static_cast<float>(ch - 1));
        const int cy0 = static_cast<int>(fy), cy1 = std::min(cy0 + 1, ch - 1);
        const float wy = fy - static_cast<float>(cy0);
        const float* r0 = m + static_cast<std::size_t>(cy0) * cw * 3;
        const float* r1 = m + static_cast<std::size_t>(cy1) * cw * 3;
        const int c0 = column[x0], c1 = std::min(cw, column[x1 - 1] + 2);
        for (int c = 3 * c0; c < 3 * c1; ++c) line[c] = (1 - wy) * r0[c] + wy * r1[c];
        std::uint8_t* out = top + static_cast<std::size_t>(y) * w * 3;
        const std::uint8_t* row = mask + static_cast<std::size_t>(y) * w;
        for (int x = x0; x < x1; ++x) {
            if (!row[x]) continue;
            const float* a = line + 3 * column[x];
            const float t = across[x];
            const int next = cw > 1 ? 3 : 0;
            for (int k = 0; k < 3; ++k)
                out[3 * x + k] = to_byte(static_cast<float>(out[3 * x + k]) + (1 - t) * a[k] + t * a[k + next]);
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
    // The solve runs over the weight's support (its box, inside the region's edge).
    int x0 = w, x1 = 0, y0 = h, y1 = 0;
    for (int y = 1; y < h - 1; ++y)
        for (int x = 1; x < w - 1; ++x)
            if (alpha[static_cast<std::size_t>(y) * w + x] > 0)
                x0 = std::min(x0, x), x1 = std::max(x1, x + 1), y0 = std::min(y0, y), y1 = y + 1;
    if (x1 <= x0) return;
    for (int c = 0; c < 3; ++c) {
        for (std::size_t i = 0; i < pixels; ++i) {
            source[i] = alpha[i] * (static_cast<float>(top[3 * i + c]) - static_cast<float>(base[3 * i + c]));
            d[i] = alpha[i] > 0
                       ? static_cast<float>(out[3 * i + c]) - static_cast<float>(base[3 * i + c])
                       : 0.0f;
        }
        // The guidance: the discrete Laplacian of the weighted difference.
        for (int y = y0; y < y1; ++y)
            for (int x = x0; x < x1; ++x) {
                const std::size_t i = static_cast<std::size_t>(y) * w + x;
                guide[i] = source[i - 1] + source[i + 1] + source[i - w] + source[i + w] - 4.0f * source[i];
            }
        // Red-black successive over-relaxation inside the weight's support; d stays 0 (the
        // template) outside it and on the region's edge.
        for (int it = 0; it < iterations; ++it)
            for (int parity = 0; parity < 2; ++parity)
                for (int y = y0; y < y1; ++y)
                    for (int x = x0 + ((x0 + y + parity) & 1); x < x1; x += 2) {
                        const std::size_t i = static_cast<std::size_t>(y) * w + x;
                        if (!(alpha[i] > 0)) continue;
                        const float target = (d[i - 1] + d[i + 1] + d[i - w] + d[i + w] - guide[i]) * 0.25f;
                        d[i] += omega * (target - d[i]);
                    }
        for (std::size_t i = 0; i < pixels; ++i)
            out[3 * i + c] = to_byte(static_cast<float>(base[3 * i + c]) + (alpha[i] > 0 ? d[i] : 0.0f));
    }
}

}  // namespace facekit::fusion
