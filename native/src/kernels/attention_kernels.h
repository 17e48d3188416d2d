// The attention mesh's bilinear sampler (internal; facekit/attention.h has the contract): the
// scalar reference, its SIMD variants and the dispatching entry point. Every path computes each
// output pixel's position and weights with the same inline scalar code below (compiled into
// each ISA's file with -ffp-contract=off: separate multiplies and adds, in the reference's
// order); the SIMD paths only widen the per-channel blend, a separate multiply and add per
// step in the same order, so all paths write the same bits.
#pragma once
#include <cstddef>

namespace facekit::kernels {

// One transform_bilinear call. The matrix's first two rows, with v2's pixel-centre correction
// folded into the origin: output pixel (x, y) samples (m00 x + m01 y + origin_x,
// m10 x + m11 y + origin_y).
struct BilinearTransform {
    const float* input;  // [height, width, channels]
    int height, width, channels;
    float m00, m01, origin_x, m10, m11, origin_y;
    int out_height, out_width;
};

// Where output pixel (x, y) reads and with what weights.
struct BilinearTap {
    std::ptrdiff_t at;   // float offset of the top-left neighbour (x0, y0)
    bool right, below;   // whether (x0 + 1, .) and (., y0 + 1) are inside; else they read 0
    float wx0, wx1;      // 1 - fx, fx
    float wy0, wy1;      // 1 - fy, fy
};

// False when the position lies outside [0, width - 1] x [0, height - 1] (the pixel is 0).
// `static`: each ISA's file compiles its own copy with its own flags.
static inline bool bilinear_tap(const BilinearTransform& t, int x, int y, BilinearTap& tap) {
    const float gx = static_cast<float>(x), gy = static_cast<float>(y);
    const float sx = t.m00 * gx + t.m01 * gy + t.origin_x;
    const float sy = t.m10 * gx + t.m11 * gy + t.origin_y;
    // Written so that NaN fails it too.
    if (!(sx >= 0.0f && sx <= static_cast<float>(t.width - 1) && sy >= 0.0f &&
          sy <= static_cast<float>(t.height - 1)))
        return false;
    // Both are >= 0 here, so truncation is the floor (and no libm floor, whose out-of-line
    // copy the linker could take from another ISA's file).
    const int x0 = static_cast<int>(sx), y0 = static_cast<int>(sy);
    const float fx = sx - static_cast<float>(x0), fy = sy - static_cast<float>(y0);
    tap.at = (static_cast<std::ptrdiff_t>(y0) * t.width + x0) * t.channels;
    tap.right = x0 + 1 < t.width;
    tap.below = y0 + 1 < t.height;
    tap.wx0 = 1.0f - fx;
    tap.wx1 = fx;
    tap.wy0 = 1.0f - fy;
    tap.wy1 = fy;
    return true;
}

// Channels [c_begin, channels) of one sampled pixel: the reference's blend, the SIMD paths'
// tail.
static inline void bilinear_channels(const BilinearTransform& t, const BilinearTap& tap,
                                     int c_begin, float* out) {
    // Offsets, not pointers: a neighbour past the edge is never even pointed at.
    const std::ptrdiff_t c_count = t.channels;
    const std::ptrdiff_t right = tap.at + c_count;
    const std::ptrdiff_t below = tap.at + static_cast<std::ptrdiff_t>(t.width) * c_count;
    for (std::ptrdiff_t c = c_begin; c < c_count; ++c) {
        const float a = t.input[tap.at + c];
        const float b = tap.right ? t.input[right + c] : 0.0f;
        const float d0 = tap.below ? t.input[below + c] : 0.0f;
        const float d1 = tap.right && tap.below ? t.input[below + c_count + c] : 0.0f;
        const float top = tap.wx0 * a + tap.wx1 * b;
        const float bottom = tap.wx0 * d0 + tap.wx1 * d1;
        out[c] = tap.wy1 * bottom + tap.wy0 * top;
    }
}

void transform_bilinear_scalar(const BilinearTransform& t, float* out);
#ifdef FACEKIT_HAVE_AVX2
void transform_bilinear_avx2(const BilinearTransform& t, float* out);
#endif
#ifdef FACEKIT_HAVE_NEON
void transform_bilinear_neon(const BilinearTransform& t, float* out);
#endif

// Dispatching entry point (the active SIMD path, one count_call per call). Arguments are
// checked by facekit::transform_bilinear.
void transform_bilinear(const BilinearTransform& t, float* out);

}  // namespace facekit::kernels
