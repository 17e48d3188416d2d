// Pixel kernels of video frames (internal): yuv420p <-> packed RGB, one row at a time, in fixed
// point. Integer maths only, so every SIMD path gives the scalar reference's bytes exactly.
// The filters are swscale's bilinear ones (what PyAV's accurate conversion does). Chroma sits
// between rows, and horizontally either on even columns ("left", H.264's default) or between
// them ("centre"): upsampling is (3, 1) / 4 vertically and (1) or (1, 1) / 2 (left), or
// (3, 1) / 4 (centre) horizontally; downsampling (RGB is written centre-sited, swscale's default
// output) is (1, 3, 3, 1) / 8 vertically and (1, 1) / 2 horizontally. Edges repeat the outermost
// sample.
#pragma once
#include <cstddef>
#include <cstdint>

namespace facekit::kernels {

// One conversion's fixed-point coefficients (yuv.cpp builds them from the matrix and range).
struct YuvCoefficients {
    // YUV -> RGB: c = (y_gain * (Y - y_offset) + gain_c * (16 * chroma - 2048) + 2^19) >> 20,
    // clamped to 0..255, where 16 * chroma is the upsampled chroma scaled by 16 (an integer):
    // near * cv(x / 2) + far * cv(f), cv(i) = 3 * nearest row + other row at sample i, f the
    // sample on x's other side (x / 2 + 1 for odd x; x / 2 - 1 centred, x / 2 left, for even x);
    // (near, far) is (3, 1) centred and (2, 2) left.
    std::int32_t y_offset, y_gain, r_v, g_u, g_v, b_u, centred;
    // RGB -> YUV: Y = (y_r R + y_g G + y_b B + y_bias) >> 16, and U/V =
    // (c_r S_R + c_g S_G + c_b S_B + c_bias) >> 20, S the (1, 3, 3, 1) x (1, 1) sums of 8 pixels
    // (weights 16 in all), each clamped to 0..255.
    std::int32_t y_r, y_g, y_b, y_bias, u_r, u_g, u_b, v_r, v_g, v_b, c_bias;
};

// Pixels [x_begin, x_end) of one RGB row `width` pixels wide from its luma row `y` and the chroma rows: `u0`/`v0`
// the nearest (weight 3), `u1`/`v1` the other neighbour (weight 1), each (width + 1) / 2 long.
void yuv_to_rgb_span_scalar(const std::uint8_t* y, const std::uint8_t* u0, const std::uint8_t* u1,
                            const std::uint8_t* v0, const std::uint8_t* v1, int width,
                            int x_begin, int x_end, const YuvCoefficients& k, std::uint8_t* rgb);
void yuv_to_rgb_row_scalar(const std::uint8_t* y, const std::uint8_t* u0, const std::uint8_t* u1,
                           const std::uint8_t* v0, const std::uint8_t* v1, int width,
                           const YuvCoefficients& k, std::uint8_t* rgb);

// Luma of pixels [x_begin, width) of one RGB row.
void rgb_to_y_span_scalar(const std::uint8_t* rgb, int width, int x_begin,
                          const YuvCoefficients& k, std::uint8_t* y);
void rgb_to_y_row_scalar(const std::uint8_t* rgb, int width, const YuvCoefficients& k,
                         std::uint8_t* y);

// Chroma samples [i_begin, (width + 1) / 2) of one chroma row from the four RGB rows around it
// (weights 1, 3, 3, 1; the caller repeats edge rows).
void rgb_to_uv_span_scalar(const std::uint8_t* r0, const std::uint8_t* r1, const std::uint8_t* r2,
                           const std::uint8_t* r3, int width, int i_begin,
                           const YuvCoefficients& k, std::uint8_t* u, std::uint8_t* v);
void rgb_to_uv_row_scalar(const std::uint8_t* r0, const std::uint8_t* r1, const std::uint8_t* r2,
                          const std::uint8_t* r3, int width, const YuvCoefficients& k,
                          std::uint8_t* u, std::uint8_t* v);

#ifdef FACEKIT_HAVE_AVX2
void yuv_to_rgb_row_avx2(const std::uint8_t* y, const std::uint8_t* u0, const std::uint8_t* u1,
                         const std::uint8_t* v0, const std::uint8_t* v1, int width,
                         const YuvCoefficients& k, std::uint8_t* rgb);
void rgb_to_y_row_avx2(const std::uint8_t* rgb, int width, const YuvCoefficients& k,
                       std::uint8_t* y);
void rgb_to_uv_row_avx2(const std::uint8_t* r0, const std::uint8_t* r1, const std::uint8_t* r2,
                        const std::uint8_t* r3, int width, const YuvCoefficients& k,
                        std::uint8_t* u, std::uint8_t* v);
#endif
#ifdef FACEKIT_HAVE_NEON
void yuv_to_rgb_row_neon(const std::uint8_t* y, const std::uint8_t* u0, const std::uint8_t* u1,
                         const std::uint8_t* v0, const std::uint8_t* v1, int width,
                         const YuvCoefficients& k, std::uint8_t* rgb);
void rgb_to_y_row_neon(const std::uint8_t* rgb, int width, const YuvCoefficients& k,
                       std::uint8_t* y);
void rgb_to_uv_row_neon(const std::uint8_t* r0, const std::uint8_t* r1, const std::uint8_t* r2,
                        const std::uint8_t* r3, int width, const YuvCoefficients& k,
                        std::uint8_t* u, std::uint8_t* v);
#endif

// Dispatching entry points (the active SIMD path, one count_call per call).
void yuv_to_rgb_row(const std::uint8_t* y, const std::uint8_t* u0, const std::uint8_t* u1,
                    const std::uint8_t* v0, const std::uint8_t* v1, int width,
                    const YuvCoefficients& k, std::uint8_t* rgb);
void rgb_to_y_row(const std::uint8_t* rgb, int width, const YuvCoefficients& k, std::uint8_t* y);
void rgb_to_uv_row(const std::uint8_t* r0, const std::uint8_t* r1, const std::uint8_t* r2,
                   const std::uint8_t* r3, int width, const YuvCoefficients& k, std::uint8_t* u,
                   std::uint8_t* v);

}  // namespace facekit::kernels
