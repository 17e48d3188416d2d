// Portrait background effects (facekit/portrait.h has the contracts).
#include "facekit/portrait.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <stdexcept>
#include <string>

#include "kernels/beauty_kernels.h"
#include "kernels/portrait_kernels.h"

namespace facekit::portrait {

namespace {

constexpr float kEps = 30.0f;  // the guided filter's regularization, in 8-bit units squared
constexpr float kContrast = 3.0f;  // the mask's contrast around 0.5 before the filter
// The filtered matte's levels: kFloor and below become 0 (the faint fringe the filter spreads
// into the background), 255 - kFloor and above 255, stretched linearly between; folded into
// the coefficients.
constexpr float kFloor = 32.0f;
constexpr float kMaxSlope = 15.0f;  // |a| cap, so the quantized coefficients stay in range
constexpr float kSlopeOffset = 16.0f, kSlopeScale = 2048.0f;
constexpr float kBiasOffset = 4096.0f, kBiasScale = 16.0f;

int channels_of(const ImageView& image) { return bytes_per_pixel(image.format); }

const std::uint8_t* row_of(const ImageView& image, int y) {
    return image.data + image.stride * static_cast<std::ptrdiff_t>(y);
}

// The image resampled on the grid (bilinear at each cell's centre), all channels, packed.
std::uint8_t* grid_image(const ImageView& image, int step, int gw, int gh, Arena& arena) {
    const int ch = channels_of(image);
    auto* out = arena.allocate_array<std::uint8_t>(static_cast<std::size_t>(gw) * gh * ch);
    auto* positions = arena.allocate_array<float>(static_cast<std::size_t>(gw) * 2);
    const float centre = 0.5f * static_cast<float>(step - 1);
    for (int x = 0; x < gw; ++x)
        positions[2 * x] = std::min(static_cast<float>(x * step) + centre,
                                    static_cast<float>(image.width - 1));
    for (int y = 0; y < gh; ++y) {
        const float sy = std::min(static_cast<float>(y * step) + centre,
                                  static_cast<float>(image.height - 1));
        const int y0 = static_cast<int>(sy);
        const int y1 = std::min(y0 + 1, image.height - 1);
        // Two rows of the image as a 2-row strip, so remap reads only them.
        for (int x = 0; x < gw; ++x) positions[2 * x + 1] = sy - static_cast<float>(y0);
        const std::ptrdiff_t stride = y1 == y0 ? 0 : image.stride;
        kernels::remap_bilinear(row_of(image, y0), image.width, 2, stride, ch, positions, gw,
                                out + static_cast<std::size_t>(y) * gw * ch);
    }
    return out;
}

// Bilinear resampling of a packed `ch`-channel image (sw x sh) to dst (dw x dh, rows
// dst_stride bytes apart): pixel centres map onto pixel centres.
void resize(const std::uint8_t* src, int sw, int sh, std::ptrdiff_t src_stride, int ch,
            std::uint8_t* dst, int dw, int dh, std::ptrdiff_t dst_stride, Arena& arena) {
    auto* positions = arena.allocate_array<float>(static_cast<std::size_t>(dw) * 2);
    const float fx = static_cast<float>(sw) / static_cast<float>(dw);
    const float fy = static_cast<float>(sh) / static_cast<float>(dh);
    for (int x = 0; x < dw; ++x)
        positions[2 * x] = std::clamp((static_cast<float>(x) + 0.5f) * fx - 0.5f, 0.0f,
                                      static_cast<float>(sw - 1));
    for (int y = 0; y < dh; ++y) {
        const float sy = std::clamp((static_cast<float>(y) + 0.5f) * fy - 0.5f, 0.0f,
                                    static_cast<float>(sh - 1));
        const int y0 = static_cast<int>(sy);
        const int y1 = std::min(y0 + 1, sh - 1);
        for (int x = 0; x < dw; ++x) positions[2 * x + 1] = sy - static_cast<float>(y0);
        kernels::remap_bilinear(src + src_stride * y0, sw, 2, y1 == y0 ? 0 : src_stride, ch,
                                positions, dw, dst + dst_stride * y);
    }
}

// Bilinear sample of the network's mask (kMaskSide^2, over the whole image) at image position
// (x, y), in [0, 1].
float mask_at(const float* mask, float x, float y, int width, int height) {
    const float u = std::clamp((x + 0.5f) * kMaskSide / width - 0.5f, 0.0f, kMaskSide - 1.0f);
    const float v = std::clamp((y + 0.5f) * kMaskSide / height - 0.5f, 0.0f, kMaskSide - 1.0f);
    const int u0 = static_cast<int>(u), v0 = static_cast<int>(v);
    const int u1 = std::min(u0 + 1, kMaskSide - 1), v1 = std::min(v0 + 1, kMaskSide - 1);
    const float fu = u - u0, fv = v - v0;
    const float top = mask[v0 * kMaskSide + u0] * (1 - fu) + mask[v0 * kMaskSide + u1] * fu;
    const float bottom = mask[v1 * kMaskSide + u0] * (1 - fu) + mask[v1 * kMaskSide + u1] * fu;
    return std::clamp(top * (1 - fv) + bottom * fv, 0.0f, 1.0f);
}

void check_image(const ImageView& image) {
    validate(image);
    if (image.width < 2 || image.height < 2)
        throw std::invalid_argument("image must be at least 2x2 pixels");
}

}  // namespace

int grid_step(int width, int height) noexcept {
    return std::max(1, static_cast<int>(std::lround(std::min(width, height) / 270.0)));
}

void smooth_mask(const float* mask, float* state, std::size_t count, float keep, bool first) {
    if (first || keep <= 0.0f) {
        std::memcpy(state, mask, count * sizeof(float));
        return;
    }
    // A pixel whose probability changes a lot (the person moved) follows the new frame more
    // quickly: the weight of the past shrinks with the change, so small flicker is averaged
    // away and motion does not leave a trailing ghost.
    for (std::size_t i = 0; i < count; ++i) {
        const float change = mask[i] - state[i];
        const float past = keep * (1.0f - std::fabs(change));
        state[i] += (1.0f - past) * change;
    }
}

std::uint8_t* matte(const ImageView& image, const float* mask, Arena& arena) {
    check_image(image);
    const int width = image.width, height = image.height, ch = channels_of(image);
    const int step = grid_step(width, height);
    const int gw = (width + step - 1) / step, gh = (height + step - 1) / step;
    const std::size_t cells = static_cast<std::size_t>(gw) * gh;
    const int r = std::max(2, static_cast<int>(std::lround(std::max(gw, gh) / 120.0)));
    const int guide_channel = ch == 1 ? 0 : 1;

    const std::uint8_t* grid = grid_image(image, step, gw, gh, arena);
    auto* guide = arena.allocate_array<std::uint32_t>(cells);
    auto* prob = arena.allocate_array<std::uint32_t>(cells);
    auto* plane = arena.allocate_array<std::uint32_t>(cells);
    auto* sum_i = arena.allocate_array<std::uint32_t>(cells);
    auto* sum_ii = arena.allocate_array<std::uint32_t>(cells);
    auto* sum_p = arena.allocate_array<std::uint32_t>(cells);
    auto* sum_ip = arena.allocate_array<std::uint32_t>(cells);
    auto* scratch = arena.allocate_array<std::uint32_t>(static_cast<std::size_t>(std::max(gw, gh)) + 2 * r + 2);
    const float centre = 0.5f * static_cast<float>(step - 1);
    for (int y = 0; y < gh; ++y)
        for (int x = 0; x < gw; ++x) {
            const std::size_t i = static_cast<std::size_t>(y) * gw + x;
            guide[i] = grid[i * ch + guide_channel];
            const float p = mask_at(mask, std::min(x * step + centre, width - 1.0f),
                                    std::min(y * step + centre, height - 1.0f), width, height);
            const float sharp = std::clamp((p - 0.5f) * kContrast + 0.5f, 0.0f, 1.0f);
            prob[i] = static_cast<std::uint32_t>(sharp * 255.0f + 0.5f);
        }
    kernels::box_sum(guide, gw, gh, r, sum_i, scratch);
    kernels::box_sum(prob, gw, gh, r, sum_p, scratch);
    for (std::size_t i = 0; i < cells; ++i) plane[i] = guide[i] * guide[i];
    kernels::box_sum(plane, gw, gh, r, sum_ii, scratch);
    for (std::size_t i = 0; i < cells; ++i) plane[i] = guide[i] * prob[i];
    kernels::box_sum(plane, gw, gh, r, sum_ip, scratch);
    // Coefficients a (slope) and b (bias) per window, quantized for exact window sums.
    const float inv_n = 1.0f / static_cast<float>((2 * r + 1) * (2 * r + 1));
    for (std::size_t i = 0; i < cells; ++i) {
        const float mean_i = sum_i[i] * inv_n, mean_p = sum_p[i] * inv_n;
        const float var = std::max(sum_ii[i] * inv_n - mean_i * mean_i, 0.0f);
        const float cov = sum_ip[i] * inv_n - mean_i * mean_p;
        const float a = std::clamp(cov / (var + kEps), -kMaxSlope, kMaxSlope);
        const float b = std::clamp(mean_p - a * mean_i, -kBiasOffset, kBiasOffset);
        guide[i] = static_cast<std::uint32_t>((a + kSlopeOffset) * kSlopeScale + 0.5f);
        prob[i] = static_cast<std::uint32_t>((b + kBiasOffset) * kBiasScale + 0.5f);
    }
    kernels::box_sum(guide, gw, gh, r, sum_i, scratch);
    kernels::box_sum(prob, gw, gh, r, sum_p, scratch);
    // The mean coefficients, spread across the full width (bilinear between cell centres).
    auto* row_a = arena.allocate_array<float>(static_cast<std::size_t>(gh) * width);
    auto* row_b = arena.allocate_array<float>(static_cast<std::size_t>(gh) * width);
    auto* x0s = arena.allocate_array<int>(static_cast<std::size_t>(width));
    auto* wxs = arena.allocate_array<float>(static_cast<std::size_t>(width));
    const float grid_of = 1.0f / static_cast<float>(step);
    for (int x = 0; x < width; ++x) {
        const float gx = std::clamp((x - centre) * grid_of, 0.0f, gw - 1.0f);
        x0s[x] = std::min(static_cast<int>(gx), gw - 1);
        wxs[x] = gx - x0s[x];
    }
    const float scale_a = inv_n / kSlopeScale, scale_b = inv_n / kBiasScale;
    const float stretch = 255.0f / (255.0f - 2.0f * kFloor);
    for (int y = 0; y < gh; ++y) {
        const std::uint32_t* sa = sum_i + static_cast<std::size_t>(y) * gw;
        const std::uint32_t* sb = sum_p + static_cast<std::size_t>(y) * gw;
        float* ra = row_a + static_cast<std::size_t>(y) * width;
        float* rb = row_b + static_cast<std::size_t>(y) * width;
        for (int x = 0; x < width; ++x) {
            const int k0 = x0s[x], k1 = std::min(k0 + 1, gw - 1);
            const float a0 = sa[k0] * scale_a - kSlopeOffset, a1 = sa[k1] * scale_a - kSlopeOffset;
            const float b0 = sb[k0] * scale_b - kBiasOffset, b1 = sb[k1] * scale_b - kBiasOffset;
            ra[x] = (a0 + (a1 - a0) * wxs[x]) * stretch;
            rb[x] = (b0 + (b1 - b0) * wxs[x] - kFloor) * stretch;
        }
    }
    auto* out = arena.allocate_array<std::uint8_t>(static_cast<std::size_t>(width) * height);
    for (int y = 0; y < height; ++y) {
        const float gy = std::clamp((y - centre) * grid_of, 0.0f, gh - 1.0f);
        const int y0 = std::min(static_cast<int>(gy), gh - 1), y1 = std::min(y0 + 1, gh - 1);
        const std::size_t o0 = static_cast<std::size_t>(y0) * width;
        const std::size_t o1 = static_cast<std::size_t>(y1) * width;
        kernels::matte_output(row_a + o0, row_a + o1, row_b + o0, row_b + o1, gy - y0,
                              row_of(image, y) + guide_channel, ch, static_cast<std::size_t>(width),
                              out + static_cast<std::size_t>(y) * width);
    }
    return out;
}

namespace {

// Normalized convolution of the grid image by a box of radius r: each channel's box sum of
// value * weight over the box sum of the weights (the plain pixel where no weight falls).
// Writes the blurred colours into `out` (gw x gh x ch) and the window weights' means into
// `next` (the weights of the next pass).
void weighted_box(const std::uint8_t* in, const std::uint32_t* weight, int gw, int gh, int ch,
                  int r, std::uint8_t* out, std::uint32_t* next, std::uint32_t* plane,
                  std::uint32_t* sums, std::uint32_t* den, std::uint32_t* scratch) {
    const std::size_t cells = static_cast<std::size_t>(gw) * gh;
    const std::uint32_t n = static_cast<std::uint32_t>((2 * r + 1) * (2 * r + 1));
    kernels::box_sum(weight, gw, gh, r, den, scratch);
    for (int c = 0; c < ch; ++c) {
        for (std::size_t i = 0; i < cells; ++i) plane[i] = in[i * ch + c] * weight[i];
        kernels::box_sum(plane, gw, gh, r, sums, scratch);
        for (std::size_t i = 0; i < cells; ++i)
            out[i * ch + c] = den[i] ? static_cast<std::uint8_t>((sums[i] + den[i] / 2) / den[i])
                                     : in[i * ch + c];
    }
    for (std::size_t i = 0; i < cells; ++i) next[i] = (den[i] + n / 2) / n;
}

}  // namespace

std::uint8_t* compose(const ImageView& image, const std::uint8_t* matte, const Compose& how,
                      Arena& arena) {
    check_image(image);
    const int width = image.width, height = image.height, ch = channels_of(image);
    if (how.effect == Effect::Cutout && ch == 1)
        throw std::invalid_argument("a cut-out needs a colour image");
    const int out_ch = how.effect == Effect::Cutout ? 4 : ch;
    const std::size_t row_bytes = static_cast<std::size_t>(width) * out_ch;
    auto* out = arena.allocate_array<std::uint8_t>(row_bytes * height);
    if (how.effect == Effect::None) {
        for (int y = 0; y < height; ++y) std::memcpy(out + row_bytes * y, row_of(image, y), row_bytes);
        return out;
    }
    if (how.effect == Effect::Cutout) {
        const int colours = std::min(ch, 3);
        for (int y = 0; y < height; ++y) {
            const std::uint8_t* in = row_of(image, y);
            const std::uint8_t* m = matte + static_cast<std::size_t>(y) * width;
            std::uint8_t* o = out + row_bytes * y;
            for (int x = 0; x < width; ++x) {
                for (int c = 0; c < colours; ++c) o[4 * x + c] = in[ch * x + c];
                o[4 * x + 3] = m[x];
            }
        }
        return out;
    }
    // The background to blend in, full size, packed rows (a single row repeated for a colour).
    const std::uint8_t* background = nullptr;
    std::ptrdiff_t background_stride = static_cast<std::ptrdiff_t>(row_bytes);
    if (how.effect == Effect::Color) {
        auto* row = arena.allocate_array<std::uint8_t>(row_bytes);
        for (int x = 0; x < width; ++x) std::memcpy(row + static_cast<std::size_t>(x) * ch, how.color, ch);
        background = row;
        background_stride = 0;
    } else if (how.effect == Effect::Image) {
        validate(how.background);
        if (bytes_per_pixel(how.background.format) != ch)
            throw std::invalid_argument("the background image must have the image's channel count");
        auto* full = arena.allocate_array<std::uint8_t>(row_bytes * height);
        resize(how.background.data, how.background.width, how.background.height,
               how.background.stride, ch, full, width, height, static_cast<std::ptrdiff_t>(row_bytes),
               arena);
        background = full;
    } else if (how.effect == Effect::Blur) {
        if (!(how.blur > 0.0f && how.blur <= 1.0f))
            throw std::invalid_argument("blur strength must lie in (0, 1]");
        const int step = grid_step(width, height);
        const int gw = (width + step - 1) / step, gh = (height + step - 1) / step;
        const std::size_t cells = static_cast<std::size_t>(gw) * gh;
        const int r = std::max(1, static_cast<int>(std::lround(how.blur * std::max(gw, gh) / 40.0)));
        std::uint8_t* grid = grid_image(image, step, gw, gh, arena);
        auto* weight = arena.allocate_array<std::uint32_t>(cells);
        const float centre = 0.5f * static_cast<float>(step - 1);
        for (int y = 0; y < gh; ++y) {
            const int sy = std::min(static_cast<int>(y * step + centre + 0.5f), height - 1);
            for (int x = 0; x < gw; ++x) {
                const int sx = std::min(static_cast<int>(x * step + centre + 0.5f), width - 1);
                const std::uint32_t back = 255u - matte[static_cast<std::size_t>(sy) * width + sx];
                weight[static_cast<std::size_t>(y) * gw + x] = (back * back + 127) / 255;
            }
        }
        auto* blurred = arena.allocate_array<std::uint8_t>(cells * ch);
        auto* next = arena.allocate_array<std::uint32_t>(cells);
        auto* plane = arena.allocate_array<std::uint32_t>(cells);
        auto* sums = arena.allocate_array<std::uint32_t>(cells);
        auto* den = arena.allocate_array<std::uint32_t>(cells);
        auto* scratch = arena.allocate_array<std::uint32_t>(static_cast<std::size_t>(std::max(gw, gh)) + 2 * r + 2);
        weighted_box(grid, weight, gw, gh, ch, r, blurred, next, plane, sums, den, scratch);
        weighted_box(blurred, next, gw, gh, ch, r, grid, weight, plane, sums, den, scratch);
        auto* full = arena.allocate_array<std::uint8_t>(row_bytes * height);
        resize(grid, gw, gh, static_cast<std::ptrdiff_t>(gw) * ch, ch, full, width, height,
               static_cast<std::ptrdiff_t>(row_bytes), arena);
        background = full;
    } else {
        throw std::invalid_argument("unknown portrait effect");
    }
    // out = image + (background - image) * (255 - matte) / 256: a pixel of matte 255 keeps the
    // image exactly, one of matte 0 takes the background exactly.
    auto* inverse = arena.allocate_array<std::uint8_t>(static_cast<std::size_t>(width));
    for (int y = 0; y < height; ++y) {
        const std::uint8_t* m = matte + static_cast<std::size_t>(y) * width;
        for (int x = 0; x < width; ++x) inverse[x] = static_cast<std::uint8_t>(255 - m[x]);
        const std::uint8_t* back = background + background_stride * y;
        std::uint8_t* o = out + row_bytes * y;
        kernels::blend(row_of(image, y), back, inverse, 256, static_cast<std::size_t>(width), ch, o);
        // The blend's weight tops out at 255/256: pixels of matte 0 take the background exactly.
        for (int x = 0; x < width; ++x)
            if (m[x] == 0) std::memcpy(o + static_cast<std::size_t>(x) * ch, back + static_cast<std::size_t>(x) * ch, ch);
    }
    return out;
}

}  // namespace facekit::portrait
