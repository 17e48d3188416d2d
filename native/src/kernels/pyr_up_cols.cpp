// The pyramid's upsampling filter, horizontal pass: the scalar reference and the dispatching
// entry point (fusion_kernels.h has the contract).
#include "kernels/fusion_kernels.h"
#include "kernels/table.h"

namespace facekit::kernels {

void pyr_up_cols_span_scalar(const float* s, int n, float* out, int begin, int end) {
    auto at = [&](int i) { return s[i < 0 ? 0 : (i >= n ? n - 1 : i)]; };
    for (int x = begin; x < end; ++x) {
        const int i = x / 2;
        if (i >= 1 && i + 1 < n)  // inside: no clamps needed
            out[x] = x % 2 == 0 ? ((s[i - 1] + s[i + 1]) + s[i] * 6.0f) * 0.125f
                                : (s[i] + s[i + 1]) * 0.5f;
        else
            out[x] = x % 2 == 0 ? ((at(i - 1) + at(i + 1)) + at(i) * 6.0f) * 0.125f
                                : (at(i) + at(i + 1)) * 0.5f;
    }
}

void pyr_up_cols_scalar(const float* s, int n, float* out, int w) {
    pyr_up_cols_span_scalar(s, n, out, 0, w);
}

void pyr_up_cols(const float* s, int n, float* out, int w) {
    run(&KernelTable::pyr_up_cols, s, n, out, w);
}

}  // namespace facekit::kernels
