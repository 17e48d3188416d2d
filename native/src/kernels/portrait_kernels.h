// Pixel kernels of the portrait matte (internal). matte_output.cpp holds the scalar reference;
// the per-ISA variants give identical outputs (elementwise float maths in the reference's order,
// contraction off, the same rounding).
#pragma once
#include <cstddef>
#include <cstdint>

namespace facekit::kernels {

// One full-resolution row of a fast guided filter's output, with the vertical half of the
// coefficients' bilinear upsampling fused in: per element i,
//   a = a0[i] + (a1[i] - a0[i]) * wy,  b = b0[i] + (b1[i] - b0[i]) * wy,
//   q = a * guide[i * pixel_stride] + b,  out[i] = (uint8)(clamp(q, 0, 255) + 0.5).
// a0/a1 and b0/b1 are the coefficient rows above and below (already upsampled horizontally).
void matte_output_scalar(const float* a0, const float* a1, const float* b0, const float* b1,
                         float wy, const std::uint8_t* guide, int pixel_stride,
                         std::size_t count, std::uint8_t* out);

#ifdef FACEKIT_HAVE_AVX2
void matte_output_avx2(const float* a0, const float* a1, const float* b0, const float* b1,
                       float wy, const std::uint8_t* guide, int pixel_stride, std::size_t count,
                       std::uint8_t* out);
#endif
#ifdef FACEKIT_HAVE_NEON
void matte_output_neon(const float* a0, const float* a1, const float* b0, const float* b1,
                       float wy, const std::uint8_t* guide, int pixel_stride, std::size_t count,
                       std::uint8_t* out);
#endif

// Dispatching entry point (the active SIMD path; one count_call per call).
void matte_output(const float* a0, const float* a1, const float* b0, const float* b1, float wy,
                  const std::uint8_t* guide, int pixel_stride, std::size_t count,
                  std::uint8_t* out);

}  // namespace facekit::kernels
