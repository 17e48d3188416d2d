// The pyramid's downsampling filter, vertical pass: the scalar reference and the dispatching
// entry point (fusion_kernels.h has the contract).
#include "kernels/fusion_kernels.h"
#include "kernels/table.h"

namespace facekit::kernels {

void pyr_down_rows_scalar(const float* a, const float* b, const float* c, const float* d,
                          const float* e, std::size_t count, float* out) {
    for (std::size_t i = 0; i < count; ++i)
        out[i] = (((a[i] + e[i]) + (b[i] + d[i]) * 4.0f) + c[i] * 6.0f) * 0.0625f;
}

void pyr_down_rows(const float* a, const float* b, const float* c, const float* d,
                   const float* e, std::size_t count, float* out) {
    run(&KernelTable::pyr_down_rows, a, b, c, d, e, count, out);
}

}  // namespace facekit::kernels
