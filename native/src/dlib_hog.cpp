// dlib's frontal face detector near one face (see dlib_hog.h). Checked against dlib-bin in
// tests/test_verify.py: the same box and score for every face dlib finds in the shared photos.
//
// What has to match dlib for the box to match:
//   - image sizes: the 2x upsample is (2h + 1) x (2w + 2), each pyramid level 5/6 of the last
//     (integer division), levels while the 5/6-mapped rectangle stays at least 64 wide and high;
//   - the RGB bilinear resize: rows stepped in double, columns in groups of four stepped in
//     float and truncated (the tail columns in double), results truncated to 8 bits;
//   - FHOG with 8-pixel cells: the strongest of the three colour gradients (ties broken as
//     dlib's vector path breaks them), one of 18 orientations, bilinear votes added pixel by
//     pixel in row order, 4-block normalisation truncated at 0.2, 31 planes;
//   - window-to-box mapping: cell to pixel centre, pyramid levels up (x 6/5 + 0.3 each), the
//     upsample down (/2 - (1.25, 0.75)), rounded half away from zero at dlib's steps.
// Scores are summed in double over the full 10x10 filters (dlib sums rank-reduced separable
// filters in float); they agree to about 1e-3, far below the gaps between windows.
#include "facekit/dlib_hog.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <stdexcept>
#include <string>

#if defined(__SSE2__)
#include <emmintrin.h>
#elif defined(__ARM_NEON)
#include <arm_neon.h>
#endif

namespace facekit {

namespace {

constexpr int kCell = 8;
constexpr int kWindow = 10;                    // filter side, in cells (80 pixels)
constexpr int kPlanes = 31;
constexpr int kOffset = (kWindow - 1) / 2;     // features start this far into each plane
constexpr long kMinLayer = 64;
constexpr double kSideRange = 1.3, kCentreRange = 0.2;
// Pyramid pixels one search may compute (about 100 MB of arena): faces over roughly 1,000
// pixels wide would need more and are not searched (dlib itself would upsample the whole photo).
constexpr long kMaxPixels = 32L << 20;

struct Span {
    long lo, hi;  // inclusive; empty when lo > hi
    bool empty() const { return lo > hi; }
};

Span hull(Span a, Span b) {
    if (a.empty()) return b;
    if (b.empty()) return a;
    return {std::min(a.lo, b.lo), std::max(a.hi, b.hi)};
}

Span clip(Span a, long lo, long hi) { return {std::max(a.lo, lo), std::min(a.hi, hi)}; }

// Where each output row and column of dlib's RGB bilinear resize reads (sizes only: no pixels).
struct Resize {
    int in_w = 0, in_h = 0, out_w = 0, out_h = 0, vector_cols = 0;
    std::vector<int> top, bottom, left, right;
    std::vector<double> row_frac, col_frac_d;  // col_frac_d: tail columns
    std::vector<float> col_frac_f;             // vector columns
};

Resize plan(int in_w, int in_h, int out_w, int out_h) {
    Resize p;
    p.in_w = in_w, p.in_h = in_h, p.out_w = out_w, p.out_h = out_h;
    const double xs = (in_w - 1) / static_cast<double>(std::max(out_w - 1, 1));
    const double ys = (in_h - 1) / static_cast<double>(std::max(out_h - 1, 1));
    p.top.resize(out_h), p.bottom.resize(out_h), p.row_frac.resize(out_h);
    double y = -ys;
    for (int r = 0; r < out_h; ++r) {
        y += ys;
        p.top[r] = static_cast<int>(std::floor(y));
        p.bottom[r] = std::min(p.top[r] + 1, in_h - 1);
        p.row_frac[r] = y - p.top[r];
    }
    p.left.resize(out_w), p.right.resize(out_w), p.col_frac_f.resize(out_w), p.col_frac_d.resize(out_w);
    const double x0 = -4 * xs;
    float lane[4] = {static_cast<float>(x0), static_cast<float>(x0 + xs),
                     static_cast<float>(x0 + 2 * xs), static_cast<float>(x0 + 3 * xs)};
    const float step = static_cast<float>(4 * xs);
    int c = 0;
    for (; c + 4 <= out_w; c += 4) {
        float next[4];
        int left[4];
        for (int k = 0; k < 4; ++k) next[k] = lane[k] + step, left[k] = static_cast<int>(next[k]);
        if (left[3] + 1 >= in_w) break;
        for (int k = 0; k < 4; ++k) {
            lane[k] = next[k];
            p.left[c + k] = left[k];
            p.right[c + k] = left[k] + 1;
            p.col_frac_f[c + k] = next[k] - static_cast<float>(left[k]);
        }
    }
    // dlib's vector loop also stops at the group that would read past the row's end, whatever
    // the output width; the rest are the tail columns, stepped in double.
    p.vector_cols = c;
    double x = -xs + c * xs;
    for (; c < out_w; ++c) {
        x += xs;
        p.left[c] = static_cast<int>(std::floor(x));
        p.right[c] = std::min(p.left[c] + 1, in_w - 1);
        p.col_frac_d[c] = x - p.left[c];
    }
    return p;
}

typedef float f4 __attribute__((vector_size(16)));

// An RGB pixel (and the byte after it) as four floats, and four floats truncated back to
// bytes (four bytes written: the fourth lands on the next pixel's first, written after).
#if defined(__SSE2__)
inline f4 rgbx(const std::uint8_t* p) {
    std::int32_t word;
    std::memcpy(&word, p, 4);
    const __m128i zero = _mm_setzero_si128();
    const __m128i v = _mm_unpacklo_epi16(_mm_unpacklo_epi8(_mm_cvtsi32_si128(word), zero), zero);
    return static_cast<f4>(_mm_cvtepi32_ps(v));
}
inline void store_rgbx(std::uint8_t* o, f4 v) {
    __m128i q = _mm_cvttps_epi32(static_cast<__m128>(v));
    q = _mm_packus_epi16(_mm_packs_epi32(q, q), q);
    const std::int32_t word = _mm_cvtsi128_si32(q);
    std::memcpy(o, &word, 4);
}
#elif defined(__ARM_NEON)
inline f4 rgbx(const std::uint8_t* p) {
    std::uint32_t word;
    std::memcpy(&word, p, 4);
    const uint16x8_t wide = vmovl_u8(vreinterpret_u8_u32(vdup_n_u32(word)));
    return static_cast<f4>(vcvtq_f32_u32(vmovl_u16(vget_low_u16(wide))));
}
inline void store_rgbx(std::uint8_t* o, f4 v) {
    const uint16x4_t narrow = vqmovun_s32(vcvtq_s32_f32(static_cast<float32x4_t>(v)));
    const uint8x8_t bytes = vqmovn_u16(vcombine_u16(narrow, narrow));
    const std::uint32_t word = vget_lane_u32(vreinterpret_u32_u8(bytes), 0);
    std::memcpy(o, &word, 4);
}
#else
inline f4 rgbx(const std::uint8_t* p) { return f4{float(p[0]), float(p[1]), float(p[2]), float(p[3])}; }
inline void store_rgbx(std::uint8_t* o, f4 v) {
    for (int k = 0; k < 4; ++k) o[k] = static_cast<std::uint8_t>(static_cast<int>(v[k]));
}
#endif

// A block of packed RGB pixels of one pyramid level, in that level's coordinates.
struct Block {
    long x0 = 0, y0 = 0, w = 0, h = 0;
    std::uint8_t* px = nullptr;
    const std::uint8_t* at(long x, long y) const { return px + ((y - y0) * w + (x - x0)) * 3; }
};

Block resize_block(const Block& in, const Resize& p, Span rows, Span cols, Arena& arena) {
    Block out{cols.lo, rows.lo, cols.hi - cols.lo + 1, rows.hi - rows.lo + 1, nullptr};
    out.px = arena.allocate_array<std::uint8_t>(static_cast<std::size_t>(out.w * out.h * 3 + 1));
    // Byte offsets of each output column's two source pixels within a source row.
    long* offsets = arena.allocate_array<long>(static_cast<std::size_t>(out.w * 2));
    for (long c = cols.lo; c <= cols.hi; ++c) {
        offsets[2 * (c - cols.lo)] = (p.left[c] - in.x0) * 3;
        offsets[2 * (c - cols.lo) + 1] = (p.right[c] - in.x0) * 3;
    }
    const long vector_end = std::min(cols.hi + 1, static_cast<long>(p.vector_cols));
    for (long r = rows.lo; r <= rows.hi; ++r) {
        const double tb = p.row_frac[r];
        const float ftb = static_cast<float>(tb), finv = static_cast<float>(1 - tb);
        const std::uint8_t* top = in.px + (p.top[r] - in.y0) * in.w * 3;
        const std::uint8_t* bottom = in.px + (p.bottom[r] - in.y0) * in.w * 3;
        std::uint8_t* o = out.px + (r - rows.lo) * out.w * 3;
        long c = cols.lo;
        // One pixel's three channels at a time, lane by lane the same float operations dlib
        // does per channel (the fourth lane reads the next pixel's red and is dropped).
        for (; c < vector_end; ++c, o += 3) {
            const long* at = offsets + 2 * (c - cols.lo);
            const float lr = p.col_frac_f[c], inv = 1.0f - lr;
            const float wtl = finv * inv, wtr = finv * lr, wbl = ftb * inv, wbr = ftb * lr;
            f4 v = wtl * rgbx(top + at[0]) + wtr * rgbx(top + at[1]);
            v = v + wbl * rgbx(bottom + at[0]);
            v = v + wbr * rgbx(bottom + at[1]);
            store_rgbx(o, v);
        }
        for (; c <= cols.hi; ++c, o += 3) {
            const long* at = offsets + 2 * (c - cols.lo);
            const std::uint8_t *tl = top + at[0], *tr = top + at[1], *bl = bottom + at[0], *br = bottom + at[1];
            const double lr = p.col_frac_d[c];
            for (int k = 0; k < 3; ++k)
                o[k] = static_cast<std::uint8_t>((1 - tb) * ((1 - lr) * tl[k] + lr * tr[k]) +
                                                 tb * ((1 - lr) * bl[k] + lr * br[k]));
        }
    }
    return out;
}

// The input rows and columns a block of output reads.
void source_of(const Resize& p, Span rows, Span cols, Span& in_rows, Span& in_cols) {
    in_rows = {p.top[rows.lo], p.bottom[rows.hi]};
    in_cols = {p.left[cols.lo], p.right[cols.hi]};
}

// One pyramid level's geometry: its size and FHOG layout.
struct Level {
    long w = 0, h = 0;
    int cells_r = 0, cells_c = 0, hog_r = 0, hog_c = 0, visible_r = 0, visible_c = 0;
    int vector_end = 1;  // FHOG columns [1, vector_end) take dlib's vector path
};

Level level_of(long w, long h) {
    Level v;
    v.w = w, v.h = h;
    v.cells_r = static_cast<int>(static_cast<double>(static_cast<float>(h) / static_cast<float>(kCell)) + 0.5);
    v.cells_c = static_cast<int>(static_cast<double>(static_cast<float>(w) / static_cast<float>(kCell)) + 0.5);
    v.hog_r = std::max(v.cells_r - 2, 0), v.hog_c = std::max(v.cells_c - 2, 0);
    v.visible_r = static_cast<int>(std::min<long>(v.cells_r * kCell, h)) - 1;
    v.visible_c = static_cast<int>(std::min<long>(v.cells_c * kCell, w)) - 1;
    while (v.vector_end < v.visible_c - 7) v.vector_end += 8;
    return v;
}

long round_half_away(double v) { return std::lround(v); }

// dlib's fhog_to_image for one coordinate pair (cell -> pixel centre).
void cell_to_pixel(long cx, long cy, double& x, double& y) {
    long px = (cx + 1 - kOffset) * kCell + 1, py = (cy + 1 - kOffset) * kCell + 1;
    px += px >= 0 ? kCell / 2 : -kCell / 2;
    py += py >= 0 ? kCell / 2 : -kCell / 2;
    x = static_cast<double>(px), y = static_cast<double>(py);
}

// The box (original image pixels) dlib reports for the window centred on plane cell (c, r)
// of pyramid level `level`.
DlibRect window_box(long c, long r, int level) {
    double v[4];
    cell_to_pixel(c - kWindow / 2, r - kWindow / 2, v[0], v[1]);
    cell_to_pixel(c - kWindow / 2 + kWindow - 1, r - kWindow / 2 + kWindow - 1, v[2], v[3]);
    const double up = 6 / 5.0;
    for (int l = 0; l < level; ++l)
        for (double& x : v) x = x * up + 0.3;
    for (double& x : v) x = static_cast<double>(round_half_away(x));
    // The 2x upsample, undone: pyramid_down<2>'s point_down.
    const double down[4] = {v[0] / 2.0 - 1.25, v[1] / 2.0 - 0.75, v[2] / 2.0 - 1.25, v[3] / 2.0 - 0.75};
    return {static_cast<double>(round_half_away(down[0])), static_cast<double>(round_half_away(down[1])),
            static_cast<double>(round_half_away(down[2])), static_cast<double>(round_half_away(down[3]))};
}

constexpr float kDirections[9][2] = {
    {1.0000f, 0.0000f}, {0.9397f, 0.3420f}, {0.7660f, 0.6428f}, {0.500f, 0.8660f}, {0.1736f, 0.9848f},
    {-0.1736f, 0.9848f}, {-0.5000f, 0.8660f}, {-0.7660f, 0.6428f}, {-0.9397f, 0.3420f}};

// FHOG planes of one level over plane rows `prow` and columns `pcol` (plane coordinates: the
// features start kOffset cells in; outside them the planes are zero, as dlib pads them).
// Returns 31 planes of prow x pcol floats, from the level's pixels in `img`.
float* fhog_block(const Block& img, const Level& lv, Span prow, Span pcol, Arena& arena) {
    const long pr = prow.hi - prow.lo + 1, pc = pcol.hi - pcol.lo + 1;
    float* planes = arena.allocate_array<float>(static_cast<std::size_t>(kPlanes * pr * pc));
    std::memset(planes, 0, sizeof(float) * kPlanes * pr * pc);
    const Span fy = clip({prow.lo - kOffset, prow.hi - kOffset}, 0, lv.hog_r - 1);
    const Span fx = clip({pcol.lo - kOffset, pcol.hi - kOffset}, 0, lv.hog_c - 1);
    if (fy.empty() || fx.empty()) return planes;
    // Feature (y, x) reads the histogram of cell (y + 1, x + 1) and the norms of cells y..y+2.
    const Span cy{fy.lo, fy.hi + 2}, cx{fx.lo, fx.hi + 2};
    const long hr = cy.hi - cy.lo + 1, hc = cx.hi - cx.lo + 1;
    float* hist = arena.allocate_array<float>(static_cast<std::size_t>(hr * hc * 18));
    std::memset(hist, 0, sizeof(float) * hr * hc * 18);
    auto vote = [&](long cell_y, long cell_x, int bin, float amount) {
        if (cell_y < cy.lo || cell_y > cy.hi || cell_x < cx.lo || cell_x > cx.hi) return;
        hist[((cell_y - cy.lo) * hc + (cell_x - cx.lo)) * 18 + bin] += amount;
    };
    // Pixels voting into those cells: a pixel votes into cells floor((p + 0.5) / 8 - 0.5) and
    // the next one.
    const Span py = clip({kCell * (cy.lo - 1) + 4, kCell * cy.hi + 11}, 1, lv.visible_r - 1);
    const Span px = clip({kCell * (cx.lo - 1) + 4, kCell * cx.hi + 11}, 1, lv.visible_c - 1);
    for (long y = py.lo; y <= py.hi; ++y) {
        const float yp = static_cast<float>((y + 0.5) / static_cast<float>(kCell) - 0.5);
        const long iyp = static_cast<long>(std::floor(yp));
        const float vy0 = yp - static_cast<float>(iyp), vy1 = static_cast<float>(1.0 - vy0);
        for (long x = px.lo; x <= px.hi; ++x) {
            const bool vector_path = x < lv.vector_end;
            const std::uint8_t* l = img.at(x - 1, y);
            const std::uint8_t* r = img.at(x + 1, y);
            const std::uint8_t* t = img.at(x, y - 1);
            const std::uint8_t* b = img.at(x, y + 1);
            int gx[3], gy[3], len[3];
            for (int k = 0; k < 3; ++k)
                gx[k] = r[k] - l[k], gy[k] = b[k] - t[k], len[k] = gx[k] * gx[k] + gy[k] * gy[k];
            int pick;
            if (vector_path) {  // dlib's select(): red only if strictly over green, then blue
                pick = len[0] > len[1] ? 0 : 1;
                if (!(len[pick] > len[2])) pick = 2;
            } else {            // dlib's scalar path: later channels only if strictly over
                pick = 0;
                if (len[1] > len[pick]) pick = 1;
                if (len[2] > len[pick]) pick = 2;
            }
            const float g_x = static_cast<float>(gx[pick]), g_y = static_cast<float>(gy[pick]);
            const float v = std::sqrt(static_cast<float>(len[pick]));
            float best_dot = 0;
            int best_o = 0;
            for (int o = 0; o < 9; ++o) {
                const float dot = g_x * kDirections[o][0] + g_y * kDirections[o][1];
                if (dot > best_dot) best_dot = dot, best_o = o;
                else if (-dot > best_dot) best_dot = -dot, best_o = o + 9;
            }
            const float xp = static_cast<float>((x + 0.5) / static_cast<double>(kCell) - 0.5);
            const long ixp = static_cast<long>(std::floor(xp));
            const float vx0 = xp - static_cast<float>(ixp), vx1 = static_cast<float>(1.0 - vx0);
            float a11, a01, a10, a00;
            if (vector_path) {
                const float wx1 = vx1 * v, wx0 = vx0 * v;
                a11 = vy1 * wx1, a01 = vy0 * wx1, a10 = vy1 * wx0, a00 = vy0 * wx0;
            } else {
                a11 = vy1 * vx1 * v, a01 = vy0 * vx1 * v, a10 = vy1 * vx0 * v, a00 = vy0 * vx0 * v;
            }
            // Histogram cell indices are dlib's padded ones minus one: iyp and iyp + 1.
            vote(iyp, ixp, best_o, a11);
            vote(iyp + 1, ixp, best_o, a01);
            vote(iyp, ixp + 1, best_o, a10);
            vote(iyp + 1, ixp + 1, best_o, a00);
        }
    }
    float* norm = arena.allocate_array<float>(static_cast<std::size_t>(hr * hc));
    for (long i = 0; i < hr * hc; ++i) {
        float s = 0;
        for (int o = 0; o < 9; ++o) {
            const float e = hist[i * 18 + o] + hist[i * 18 + o + 9];
            s += e * e;
        }
        norm[i] = s;
    }
    auto N = [&](long y, long x) { return norm[(y - cy.lo) * hc + (x - cx.lo)]; };
    for (long y = fy.lo; y <= fy.hi; ++y)
        for (long x = fx.lo; x <= fx.hi; ++x) {
            const float z[4][4] = {{N(y + 1, x + 1), N(y, x + 1), N(y + 1, x), N(y, x)},
                                   {N(y + 1, x + 2), N(y, x + 2), N(y + 1, x + 1), N(y, x + 1)},
                                   {N(y + 2, x + 1), N(y + 1, x + 1), N(y + 2, x), N(y + 1, x)},
                                   {N(y + 2, x + 2), N(y + 1, x + 2), N(y + 2, x + 1), N(y + 1, x + 1)}};
            float nn[4], n[4], t[4] = {0, 0, 0, 0};
            for (int k = 0; k < 4; ++k) {
                nn[k] = 0.2f * std::sqrt(z[0][k] + z[1][k] + z[2][k] + z[3][k] + 0.0001f);
                n[k] = 0.1f / nn[k];
            }
            const float* h = hist + ((y + 1 - cy.lo) * hc + (x + 1 - cx.lo)) * 18;
            float* out = planes + (y + kOffset - prow.lo) * pc + (x + kOffset - pcol.lo);
            const std::size_t plane = static_cast<std::size_t>(pr * pc);
            auto feature = [&](float value, int k) { return std::min(value, nn[k]) * n[k]; };
            for (int o = 0; o < 18; o += 3) {
                float s[3][4];
                for (int j = 0; j < 3; ++j) {
                    for (int k = 0; k < 4; ++k) s[j][k] = feature(h[o + j], k);
                    out[(o + j) * plane] = (s[j][0] + s[j][1]) + (s[j][2] + s[j][3]);
                }
                for (int k = 0; k < 4; ++k) t[k] = t[k] + ((s[0][k] + s[1][k]) + s[2][k]);
            }
            for (int o = 0; o < 9; ++o) {
                float s[4];
                for (int k = 0; k < 4; ++k) s[k] = feature(h[o] + h[o + 9], k);
                out[(18 + o) * plane] = (s[0] + s[1]) + (s[2] + s[3]);
            }
            for (int k = 0; k < 4; ++k) out[(27 + k) * plane] = t[k] * static_cast<float>(2 * 0.2357);
        }
    return planes;
}

class Reader {
public:
    Reader(const std::uint8_t* data, std::size_t size) : data_(data), size_(size) {}
    void take(void* out, std::size_t bytes, const char* what) {
        if (bytes > size_ - pos_) throw std::invalid_argument(std::string("HOG detector truncated in ") + what);
        std::memcpy(out, data_ + pos_, bytes);
        pos_ += bytes;
    }
    bool done() const { return pos_ == size_; }

private:
    const std::uint8_t* data_;
    std::size_t size_, pos_ = 0;
};

}  // namespace

HogFaceDetector::HogFaceDetector(const std::uint8_t* data, std::size_t size) {
    if (data == nullptr || size < 4 || std::memcmp(data, "FKHG", 4) != 0)
        throw std::invalid_argument("not a facekit HOG detector (magic FKHG missing)");
    Reader in(data + 4, size - 4);
    std::uint32_t header[6];
    in.take(header, sizeof header, "the header");
    if (header[0] != 1)
        throw std::invalid_argument("HOG detector format " + std::to_string(header[0]) + " is not supported (expected 1)");
    if (header[1] != kCell || header[2] != kWindow || header[3] != kPlanes || header[4] != 6 ||
        header[5] < 1 || header[5] > 16)
        throw std::invalid_argument("HOG detector layout differs from dlib's frontal face detector "
                                    "(8-pixel cells, 10x10x31 filters, 5/6 pyramid)");
    thresholds_.resize(header[5]);
    in.take(thresholds_.data(), sizeof(double) * thresholds_.size(), "thresholds");
    weights_.resize(static_cast<std::size_t>(header[5]) * kPlanes * kWindow * kWindow);
    in.take(weights_.data(), sizeof(float) * weights_.size(), "filters");
    if (!in.done()) throw std::invalid_argument("HOG detector has trailing bytes");
    for (const double t : thresholds_)
        if (!std::isfinite(t)) throw std::invalid_argument("HOG detector threshold is not finite");
    for (const float w : weights_)
        if (!std::isfinite(w)) throw std::invalid_argument("HOG detector weight is not finite");
}

bool HogFaceDetector::find(const ImageView& image, const DlibRect& estimate, DlibRect& box,
                           Arena& arena, double* score) const {
    validate(image);
    const double side = estimate.right - estimate.left;
    const double mid_x = (estimate.left + estimate.right) / 2, mid_y = (estimate.top + estimate.bottom) / 2;
    if (!(side > 1) || !std::isfinite(mid_x) || !std::isfinite(mid_y))
        throw std::invalid_argument("the face box estimate is degenerate");

    // The pyramid's sizes: the upsample, then 5/6 steps while the mapped rectangle is >= 64.
    std::vector<Level> levels{level_of(2L * image.width + 2, 2L * image.height + 1)};
    {
        double r[4] = {0, 0, static_cast<double>(levels[0].w - 1), static_cast<double>(levels[0].h - 1)};
        for (;;) {
            for (double& v : r) v = static_cast<double>(round_half_away((v - 0.3) * (5 / 6.0)));
            if (!(r[2] - r[0] + 1 >= kMinLayer && r[3] - r[1] + 1 >= kMinLayer) || levels.size() >= 1000) break;
            const Level& last = levels.back();
            levels.push_back(level_of((5 * last.w) / 6, (5 * last.h) / 6));
        }
    }

    // Which windows to score: per level, the plane cells (r, c) whose box is near the estimate.
    struct Search {
        Span rows{0, -1}, cols{0, -1};  // window centres, plane coordinates
    };
    std::vector<Search> search(levels.size());
    int deepest = -1;
    for (std::size_t l = 0; l < levels.size(); ++l) {
        const Level& lv = levels[l];
        if (lv.hog_r == 0 || lv.hog_c == 0) continue;
        const long r_lo = kWindow / 2, r_hi = lv.hog_r + kWindow - 1 - (kWindow - 1) / 2 - 1;
        const long c_lo = kWindow / 2, c_hi = lv.hog_c + kWindow - 1 - (kWindow - 1) / 2 - 1;
        if (r_hi < r_lo || c_hi < c_lo) continue;
        const DlibRect probe = window_box(c_lo, r_lo, static_cast<int>(l));
        const double probe_side = probe.right - probe.left;
        if (probe_side < side / kSideRange || probe_side > side * kSideRange) continue;
        Search s;
        for (long r = r_lo; r <= r_hi; ++r) {
            const DlibRect b = window_box(c_lo, r, static_cast<int>(l));
            if (std::abs((b.top + b.bottom) / 2 - mid_y) <= kCentreRange * side) s.rows = hull(s.rows, {r, r});
        }
        for (long c = c_lo; c <= c_hi; ++c) {
            const DlibRect b = window_box(c, r_lo, static_cast<int>(l));
            if (std::abs((b.left + b.right) / 2 - mid_x) <= kCentreRange * side) s.cols = hull(s.cols, {c, c});
        }
        if (s.rows.empty() || s.cols.empty()) continue;
        search[l] = s;
        deepest = static_cast<int>(l);
    }
    if (deepest < 0) return false;

    // Pixels each level must supply, from the deepest level back to the upsample.
    std::vector<Resize> plans;  // plans[l]: level l-1 (or the original) -> level l
    plans.push_back(plan(image.width, image.height, static_cast<int>(levels[0].w), static_cast<int>(levels[0].h)));
    for (int l = 1; l <= deepest; ++l)
        plans.push_back(plan(static_cast<int>(levels[l - 1].w), static_cast<int>(levels[l - 1].h),
                             static_cast<int>(levels[l].w), static_cast<int>(levels[l].h)));
    std::vector<Span> need_rows(deepest + 1, Span{0, -1}), need_cols(deepest + 1, Span{0, -1});
    for (int l = deepest; l >= 0; --l) {
        const Level& lv = levels[l];
        if (!search[l].rows.empty()) {
            // Plane cells the windows read -> cells -> voting pixels -> their gradient neighbours.
            const Span fy = clip({search[l].rows.lo - kWindow / 2 - kOffset, search[l].rows.hi + kWindow / 2 - 1 - kOffset}, 0, lv.hog_r - 1);
            const Span fx = clip({search[l].cols.lo - kWindow / 2 - kOffset, search[l].cols.hi + kWindow / 2 - 1 - kOffset}, 0, lv.hog_c - 1);
            if (!fy.empty() && !fx.empty()) {
                need_rows[l] = hull(need_rows[l], clip({kCell * (fy.lo - 1) + 4 - 1, kCell * (fy.hi + 2) + 11 + 1}, 0, lv.h - 1));
                need_cols[l] = hull(need_cols[l], clip({kCell * (fx.lo - 1) + 4 - 1, kCell * (fx.hi + 2) + 11 + 1}, 0, lv.w - 1));
            }
        }
        if (l < deepest && !need_rows[l + 1].empty()) {
            Span rows, cols;
            source_of(plans[l + 1], need_rows[l + 1], need_cols[l + 1], rows, cols);
            need_rows[l] = hull(need_rows[l], rows);
            need_cols[l] = hull(need_cols[l], cols);
        }
    }
    if (need_rows[0].empty()) return false;
    long pixels = 0;
    for (int l = 0; l <= deepest; ++l)
        if (!need_rows[l].empty())
            pixels += (need_rows[l].hi - need_rows[l].lo + 1) * (need_cols[l].hi - need_cols[l].lo + 1);
    if (pixels > kMaxPixels) return false;

    // The original pixels needed, as packed RGB, then each level's block in turn.
    Span src_rows, src_cols;
    source_of(plans[0], need_rows[0], need_cols[0], src_rows, src_cols);
    Block block{src_cols.lo, src_rows.lo, src_cols.hi - src_cols.lo + 1, src_rows.hi - src_rows.lo + 1, nullptr};
    block.px = arena.allocate_array<std::uint8_t>(static_cast<std::size_t>(block.w * block.h * 3 + 1));
    copy_rgb(image, static_cast<int>(block.x0), static_cast<int>(block.y0), static_cast<int>(block.w),
             static_cast<int>(block.h), block.px);

    double best = -1e300;
    DlibRect best_box{};

    for (int l = 0; l <= deepest; ++l) {
        if (need_rows[l].empty()) continue;
        block = resize_block(block, plans[l], need_rows[l], need_cols[l], arena);
        const Search& s = search[l];
        if (s.rows.empty()) continue;
        const Span prow{s.rows.lo - kWindow / 2, s.rows.hi + kWindow / 2 - 1};
        const Span pcol{s.cols.lo - kWindow / 2, s.cols.hi + kWindow / 2 - 1};
        const float* planes = fhog_block(block, levels[l], prow, pcol, arena);
        const long pr = prow.hi - prow.lo + 1, pc = pcol.hi - pcol.lo + 1;
        for (long r = s.rows.lo; r <= s.rows.hi; ++r)
            for (long c = s.cols.lo; c <= s.cols.hi; ++c)
                for (int k = 0; k < filters(); ++k) {
                    const float* w = weights_.data() + static_cast<std::size_t>(k) * kPlanes * kWindow * kWindow;
                    double sum = 0;
                    for (int p = 0; p < kPlanes; ++p)
                        for (int m = 0; m < kWindow; ++m) {
                            const float* row = planes + (p * pr + (r - kWindow / 2 + m - prow.lo)) * pc + (c - kWindow / 2 - pcol.lo);
                            const float* f = w + (p * kWindow + m) * kWindow;
                            for (int n = 0; n < kWindow; ++n) sum += static_cast<double>(f[n]) * row[n];
                        }
                    const double confidence = sum - thresholds_[k];
                    if (confidence > best) best = confidence, best_box = window_box(c, r, l);
                }
    }
    if (!(best >= 0)) return false;
    box = best_box;
    if (score != nullptr) *score = best;
    return true;
}

}  // namespace facekit
