// Pixel kernels of the beauty engine (internal). The scalar functions in beauty_kernels.cpp are
// the reference; per-ISA variants must give identical integer outputs. Box sums are exact
// integers (any summation order gives the same result); per-pixel float maths is elementwise,
// in the reference's order, with contraction off.
#pragma once
#include <cstddef>
#include <cstdint>

namespace facekit::kernels {

// dst[y][x] = sum of src over the (2r+1)^2 window around (x, y), borders replicated.
// Planes are row-major with `width` elements per row. `scratch` holds width + 2r + 1 values.
void box_sum_scalar(const std::uint32_t* src, int width, int height, int r, std::uint32_t* dst,
                    std::uint32_t* scratch);

// Guided-filter coefficients from window sums of I and I*I (n pixels per window):
// mean = sum_i / n, var = sum_ii / n - mean^2, a = var / (var + eps), b = mean - a * mean;
// a_q = round(a * 4096), b_q = round(b * 16) (so their window sums stay exact in 32 bits).
void guided_coefficients_scalar(const std::uint32_t* sum_i, const std::uint32_t* sum_ii,
                                std::size_t count, float inv_n, float eps, std::uint32_t* a_q,
                                std::uint32_t* b_q);

// q = (sum_a / (4096 n)) * I + sum_b / (16 n), rounded and clamped to 0..255, for one channel
// of an interleaved image row (`stride_px` bytes between pixels).
void guided_output_scalar(const std::uint32_t* sum_a, const std::uint32_t* sum_b,
                          const std::uint8_t* guide, int pixel_stride, std::size_t count,
                          float inv_n, std::uint8_t* out, int out_stride);

// out = in + (((target - in) * w + 128) >> 8) per channel of `count` interleaved pixels, with
// w = (mask * weight_q8 + 128) >> 8 (weight_q8 in 0..256): a mask of 0 leaves `in` exact.
void blend_scalar(const std::uint8_t* in, const std::uint8_t* target, const std::uint8_t* mask,
                  int weight_q8, std::size_t count, int channels, std::uint8_t* out);

// Bilinear sampling of an interleaved 8-bit image at `count` source positions (x, y pairs);
// weights in 1/2048ths; positions outside the image clamp to the border pixels. A position on
// a pixel centre copies that pixel exactly.
void remap_bilinear_scalar(const std::uint8_t* image, int width, int height,
                           std::ptrdiff_t stride, int channels, const float* positions,
                           std::size_t count, std::uint8_t* out);

// Per-ISA variants: the same contracts, outputs identical to the scalar reference. They process
// vector-width blocks and hand row tails and short inputs to the scalar functions. Callers use
// the dispatching functions below; these exist for the dispatchers, tests and benchmarks.
#ifdef FACEKIT_HAVE_AVX2
void box_sum_avx2(const std::uint32_t* src, int width, int height, int r, std::uint32_t* dst,
                  std::uint32_t* scratch);
void guided_coefficients_avx2(const std::uint32_t* sum_i, const std::uint32_t* sum_ii,
                              std::size_t count, float inv_n, float eps, std::uint32_t* a_q,
                              std::uint32_t* b_q);
void guided_output_avx2(const std::uint32_t* sum_a, const std::uint32_t* sum_b,
                        const std::uint8_t* guide, int pixel_stride, std::size_t count,
                        float inv_n, std::uint8_t* out, int out_stride);
void blend_avx2(const std::uint8_t* in, const std::uint8_t* target, const std::uint8_t* mask,
                int weight_q8, std::size_t count, int channels, std::uint8_t* out);
void remap_bilinear_avx2(const std::uint8_t* image, int width, int height, std::ptrdiff_t stride,
                         int channels, const float* positions, std::size_t count,
                         std::uint8_t* out);
void apply_table_avx2(const std::uint8_t* in, std::size_t count, const std::uint8_t table[256],
                      std::uint8_t* out);
void lut3d_avx2(const std::uint8_t* in, std::size_t count, const std::uint8_t* lut, int size,
                std::uint8_t* out);
#endif
#ifdef FACEKIT_HAVE_NEON
void box_sum_neon(const std::uint32_t* src, int width, int height, int r, std::uint32_t* dst,
                  std::uint32_t* scratch);
void guided_coefficients_neon(const std::uint32_t* sum_i, const std::uint32_t* sum_ii,
                              std::size_t count, float inv_n, float eps, std::uint32_t* a_q,
                              std::uint32_t* b_q);
void guided_output_neon(const std::uint32_t* sum_a, const std::uint32_t* sum_b,
                        const std::uint8_t* guide, int pixel_stride, std::size_t count,
                        float inv_n, std::uint8_t* out, int out_stride);
void blend_neon(const std::uint8_t* in, const std::uint8_t* target, const std::uint8_t* mask,
                int weight_q8, std::size_t count, int channels, std::uint8_t* out);
void remap_bilinear_neon(const std::uint8_t* image, int width, int height, std::ptrdiff_t stride,
                         int channels, const float* positions, std::size_t count,
                         std::uint8_t* out);
void apply_table_neon(const std::uint8_t* in, std::size_t count, const std::uint8_t table[256],
                      std::uint8_t* out);
void lut3d_neon(const std::uint8_t* in, std::size_t count, const std::uint8_t* lut, int size,
                std::uint8_t* out);
#endif

// Dispatching entry points: the active SIMD path (facekit::active_isa()), one count_call per
// call. Paths without a variant of their own (scalar, sse41) run the scalar reference.
void box_sum(const std::uint32_t* src, int width, int height, int r, std::uint32_t* dst,
             std::uint32_t* scratch);
void guided_coefficients(const std::uint32_t* sum_i, const std::uint32_t* sum_ii,
                         std::size_t count, float inv_n, float eps, std::uint32_t* a_q,
                         std::uint32_t* b_q);
void guided_output(const std::uint32_t* sum_a, const std::uint32_t* sum_b,
                   const std::uint8_t* guide, int pixel_stride, std::size_t count, float inv_n,
                   std::uint8_t* out, int out_stride);
void blend(const std::uint8_t* in, const std::uint8_t* target, const std::uint8_t* mask,
           int weight_q8, std::size_t count, int channels, std::uint8_t* out);
void remap_bilinear(const std::uint8_t* image, int width, int height, std::ptrdiff_t stride,
                    int channels, const float* positions, std::size_t count, std::uint8_t* out);

// out[i] = table[in[i]] for `count` bytes (a tone curve on interleaved channels).
void apply_table_scalar(const std::uint8_t* in, std::size_t count, const std::uint8_t table[256],
                        std::uint8_t* out);

// 3D LUT, trilinear, on `count` RGB pixels (3 bytes each). `lut` holds size^3 RGB entries,
// red fastest. Fixed point: each channel's position p = v * (size - 1) in 1/256ths
// ((v * (size - 1) * 256 + 127) / 255), cell index p >> 8 (capped at size - 2), weight
// f = p - 256 * index (0..256); the result, per channel, is
// (sum over the 8 corners of w_r * w_g * w_b * entry + 2^23) >> 24, with w = f or 256 - f.
void lut3d_scalar(const std::uint8_t* in, std::size_t count, const std::uint8_t* lut, int size,
                  std::uint8_t* out);

// The skin colour model of the skin likelihood (floats: medians and spreads in 0..255 units).
struct SkinColour {
    float r, g;                 // median r and g chromaticity (255 c / (r + g + b))
    float scale_r, scale_g;     // 1 / spread of each axis
    float zero_in, ramp_in;     // inside the face: 0 from zero_in spreads, ramp 1 / (zero - full)
    float zero_out, ramp_out;   // beyond it (face = 0), the same
    float dark_lo, dark_ramp;   // luminance: 0 below dark_lo, 1 from dark_lo + 1 / dark_ramp
};

// Per pixel, in float32 in this order (contraction off): s = r + g + b; cr, cg =
// floor(c * (255 / s) + 0.5) (0 when s = 0); d = |cr - m.r| scale_r + |cg - m.g| scale_g;
// tight, loose = clamp((zero - d) ramp, 0, 1); like = tight f + loose (255 - f) with f = face[i];
// y = (77 r + 150 g + 29 b + 128) >> 8 (integers); dark = clamp((y - dark_lo) dark_ramp, 0, 1);
// colour[i] = floor(like + 0.5), likelihood[i] = floor(like dark + 0.5).
void skin_likelihood_scalar(const std::uint8_t* rgb, const std::uint8_t* face, std::size_t count,
                            const SkinColour& m, std::uint8_t* likelihood,
                            std::uint8_t* colour);
#ifdef FACEKIT_HAVE_AVX2
void skin_likelihood_avx2(const std::uint8_t* rgb, const std::uint8_t* face, std::size_t count,
                          const SkinColour& m, std::uint8_t* likelihood, std::uint8_t* colour);
#endif
#ifdef FACEKIT_HAVE_NEON
void skin_likelihood_neon(const std::uint8_t* rgb, const std::uint8_t* face, std::size_t count,
                          const SkinColour& m, std::uint8_t* likelihood, std::uint8_t* colour);
#endif
void skin_likelihood(const std::uint8_t* rgb, const std::uint8_t* face, std::size_t count,
                     const SkinColour& m, std::uint8_t* likelihood, std::uint8_t* colour);

// out[i] = (a[i] * b[i] + 127) / 255: the product of two masks (0..255 as 0..1), rounded.
void mask_product_scalar(const std::uint8_t* a, const std::uint8_t* b, std::size_t count,
                         std::uint8_t* out);
#ifdef FACEKIT_HAVE_AVX2
void mask_product_avx2(const std::uint8_t* a, const std::uint8_t* b, std::size_t count,
                       std::uint8_t* out);
#endif
#ifdef FACEKIT_HAVE_NEON
void mask_product_neon(const std::uint8_t* a, const std::uint8_t* b, std::size_t count,
                       std::uint8_t* out);
#endif
// Its dispatching entry point (out may be a or b).
void mask_product(const std::uint8_t* a, const std::uint8_t* b, std::size_t count,
                  std::uint8_t* out);

// Dispatching entry points of the two above (the same contracts; in == out is allowed).
void apply_table(const std::uint8_t* in, std::size_t count, const std::uint8_t table[256],
                 std::uint8_t* out);
void lut3d(const std::uint8_t* in, std::size_t count, const std::uint8_t* lut, int size,
           std::uint8_t* out);

}  // namespace facekit::kernels
