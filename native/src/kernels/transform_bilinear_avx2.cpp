// AVX2 path of the attention mesh's bilinear sampler (transform_bilinear.cpp is the reference):
// positions and weights from the shared scalar code, then eight channels at a time with a
// separate multiply and add per step in the reference's order; the last channels < 8 through
// the reference's own loop.
#include <immintrin.h>

#include "kernels/attention_kernels.h"

namespace facekit::kernels {

void transform_bilinear_avx2(const BilinearTransform& transform, float* out) {
    const BilinearTransform t = transform;  // a local copy: the stores to `out` cannot alias it
    const int c_count = t.channels;
    const int c_vector = c_count - c_count % 8;
    const std::ptrdiff_t row = static_cast<std::ptrdiff_t>(t.width) * c_count;
    const __m256 zero = _mm256_setzero_ps();
    for (int y = 0; y < t.out_height; ++y) {
        for (int x = 0; x < t.out_width; ++x) {
            float* pixel = out + (static_cast<std::ptrdiff_t>(y) * t.out_width + x) * c_count;
            BilinearTap tap;
            if (!bilinear_tap(t, x, y, tap)) {
                int c = 0;
                for (; c < c_vector; c += 8) _mm256_storeu_ps(pixel + c, zero);
                for (; c < c_count; ++c) pixel[c] = 0.0f;
                continue;
            }
            const __m256 wx0 = _mm256_set1_ps(tap.wx0), wx1 = _mm256_set1_ps(tap.wx1);
            const __m256 wy0 = _mm256_set1_ps(tap.wy0), wy1 = _mm256_set1_ps(tap.wy1);
            // Offsets, not pointers: a neighbour past the edge is never even pointed at.
            const float* in = t.input;
            const std::ptrdiff_t at = tap.at, below_at = tap.at + row;
            const bool right = tap.right, below = tap.below, both = right && below;
            for (int c = 0; c < c_vector; c += 8) {
                const __m256 a = _mm256_loadu_ps(in + (at + c));
                const __m256 b = right ? _mm256_loadu_ps(in + (at + c_count + c)) : zero;
                const __m256 d0 = below ? _mm256_loadu_ps(in + (below_at + c)) : zero;
                const __m256 d1 = both ? _mm256_loadu_ps(in + (below_at + c_count + c)) : zero;
                const __m256 top = _mm256_add_ps(_mm256_mul_ps(wx0, a), _mm256_mul_ps(wx1, b));
                const __m256 bottom =
                    _mm256_add_ps(_mm256_mul_ps(wx0, d0), _mm256_mul_ps(wx1, d1));
                _mm256_storeu_ps(pixel + c,
                                 _mm256_add_ps(_mm256_mul_ps(wy1, bottom), _mm256_mul_ps(wy0, top)));
            }
            if (c_vector < c_count) bilinear_channels(t, tap, c_vector, pixel);
        }
    }
}

}  // namespace facekit::kernels
