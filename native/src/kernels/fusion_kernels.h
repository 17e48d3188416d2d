// Pixel kernels of face fusion (internal): the rows of the Laplacian pyramid, its masked sum, and
// the split of RGB pixels into planes and their join.
// The scalar functions are the reference; every per-ISA variant repeats their float operations
// in the same order with contraction off, so outputs match bit for bit. All are element-wise
// over `count` floats (planes are single-channel), so tails go to the scalar functions.
#pragma once
#include <cstddef>
#include <cstdint>

namespace facekit::kernels {

// One output row of a 5-tap [1 4 6 4 1] / 16 vertical filter:
// out = (((a + e) + (b + d) * 4) + c * 6) * 0.0625.
void pyr_down_rows_scalar(const float* a, const float* b, const float* c, const float* d,
                          const float* e, std::size_t count, float* out);

// The two output rows of a 2x vertical upsampling between input rows b and c (a is the row
// before b): even = ((a + c) + b * 6) * 0.125, odd = (b + c) * 0.5.
void pyr_up_rows_scalar(const float* a, const float* b, const float* c, std::size_t count,
                        float* even, float* odd);

// acc = acc + lap * mask (one band of the multi-band blend).
void masked_add_scalar(const float* lap, const float* mask, std::size_t count, float* acc);

// The horizontal passes, one row each, borders replicated (index clamped to 0..n-1):
// down: out[x] = (((s[2x-2] + s[2x+2]) + (s[2x-1] + s[2x+1]) * 4) + s[2x] * 6) * 0.0625 for x in
// [0, w) (w = (n + 1) / 2); up: out[2i] = ((s[i-1] + s[i+1]) + s[i] * 6) * 0.125 and
// out[2i+1] = (s[i] + s[i+1]) * 0.5, for the `w` outputs (w is 2n or 2n - 1).
// The span forms compute outputs [begin, end) of the row (SIMD paths use them at the ends).
void pyr_down_cols_scalar(const float* s, int n, float* out, int w);
void pyr_down_cols_span_scalar(const float* s, int n, float* out, int begin, int end);
void pyr_up_cols_scalar(const float* s, int n, float* out, int w);
void pyr_up_cols_span_scalar(const float* s, int n, float* out, int begin, int end);

// The multi-band blend's split and join of RGB pixels (3 bytes each) and three float planes:
// rgb_difference: r[i], g[i], b[i] = top[3i + c] - base[3i + c] (as floats);
// rgb_add_round: out[3i + c] = the byte nearest base[3i + c] + plane_c[i], halves up, clamped
// to 0..255 (v = base + plane; min(max(0, v), 255) + 0.5 truncated; a NaN gives 0).
void rgb_difference_scalar(const std::uint8_t* top, const std::uint8_t* base, std::size_t count,
                           float* r, float* g, float* b);
void rgb_add_round_scalar(const std::uint8_t* base, const float* r, const float* g,
                          const float* b, std::size_t count, std::uint8_t* out);

#ifdef FACEKIT_HAVE_AVX2
void rgb_difference_avx2(const std::uint8_t* top, const std::uint8_t* base, std::size_t count,
                         float* r, float* g, float* b);
void rgb_add_round_avx2(const std::uint8_t* base, const float* r, const float* g, const float* b,
                        std::size_t count, std::uint8_t* out);
void pyr_down_rows_avx2(const float* a, const float* b, const float* c, const float* d,
                        const float* e, std::size_t count, float* out);
void pyr_up_rows_avx2(const float* a, const float* b, const float* c, std::size_t count,
                      float* even, float* odd);
void masked_add_avx2(const float* lap, const float* mask, std::size_t count, float* acc);
void pyr_down_cols_avx2(const float* s, int n, float* out, int w);
void pyr_up_cols_avx2(const float* s, int n, float* out, int w);
#endif
#ifdef FACEKIT_HAVE_NEON
void rgb_difference_neon(const std::uint8_t* top, const std::uint8_t* base, std::size_t count,
                         float* r, float* g, float* b);
void rgb_add_round_neon(const std::uint8_t* base, const float* r, const float* g, const float* b,
                        std::size_t count, std::uint8_t* out);
void pyr_down_rows_neon(const float* a, const float* b, const float* c, const float* d,
                        const float* e, std::size_t count, float* out);
void pyr_up_rows_neon(const float* a, const float* b, const float* c, std::size_t count,
                      float* even, float* odd);
void masked_add_neon(const float* lap, const float* mask, std::size_t count, float* acc);
void pyr_down_cols_neon(const float* s, int n, float* out, int w);
void pyr_up_cols_neon(const float* s, int n, float* out, int w);
#endif

// Dispatching entry points (the active SIMD path, one count_call per call).
void pyr_down_rows(const float* a, const float* b, const float* c, const float* d,
                   const float* e, std::size_t count, float* out);
void pyr_up_rows(const float* a, const float* b, const float* c, std::size_t count, float* even,
                 float* odd);
void masked_add(const float* lap, const float* mask, std::size_t count, float* acc);
void pyr_down_cols(const float* s, int n, float* out, int w);
void pyr_up_cols(const float* s, int n, float* out, int w);
void rgb_difference(const std::uint8_t* top, const std::uint8_t* base, std::size_t count, float* r,
                    float* g, float* b);
void rgb_add_round(const std::uint8_t* base, const float* r, const float* g, const float* b,
                   std::size_t count, std::uint8_t* out);

}  // namespace facekit::kernels
