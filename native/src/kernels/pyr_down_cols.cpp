// The pyramid's downsampling filter, horizontal pass with 2x decimation: the scalar reference and
// the dispatching entry point (fusion_kernels.h has the contract).
#include "kernels/fusion_kernels.h"
#include "kernels/table.h"

namespace facekit::kernels {

void pyr_down_cols_span_scalar(const float* s, int n, float* out, int begin, int end) {
    auto at = [&](int i) { return s[i < 0 ? 0 : (i >= n ? n - 1 : i)]; };
    for (int x = begin; x < end; ++x)
        out[x] = (((at(2 * x - 2) + at(2 * x + 2)) + (at(2 * x - 1) + at(2 * x + 1)) * 4.0f) +
                  at(2 * x) * 6.0f) *
                 0.0625f;
}

void pyr_down_cols_scalar(const float* s, int n, float* out, int w) {
    pyr_down_cols_span_scalar(s, n, out, 0, w);
}

void pyr_down_cols(const float* s, int n, float* out, int w) {
    run(&KernelTable::pyr_down_cols, s, n, out, w);
}

}  // namespace facekit::kernels
