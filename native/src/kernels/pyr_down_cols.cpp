// The pyramid's downsampling filter, horizontal pass with 2x decimation: the scalar reference and
// the dispatching entry point (fusion_kernels.h has the contract).
#include "kernels/fusion_kernels.h"
#include "kernels/table.h"

namespace facekit::kernels {

void pyr_down_cols_span_scalar(const float* s, int n, float* out, int begin, int end) {
    auto at = [&](int i) { return s[i < 0 ? 0 : (i >= n ? n - 1 : i)]; };
    auto tap = [](float a, float b, float c, float d, float e) {
        return (((a + e) + (b + d) * 4.0f) + c * 6.0f) * 0.0625f;
    };
    for (int x = begin; x < end; ++x) {
        const int i = 2 * x;
        out[x] = i >= 2 && i + 2 < n  // inside: no clamps needed
                     ? tap(s[i - 2], s[i - 1], s[i], s[i + 1], s[i + 2])
                     : tap(at(i - 2), at(i - 1), at(i), at(i + 1), at(i + 2));
    }
}

void pyr_down_cols_scalar(const float* s, int n, float* out, int w) {
    pyr_down_cols_span_scalar(s, n, out, 0, w);
}

void pyr_down_cols(const float* s, int n, float* out, int w) {
    run(&KernelTable::pyr_down_cols, s, n, out, w);
}

}  // namespace facekit::kernels
