// The pyramid's upsampling filter, vertical pass: the scalar reference and the dispatching entry
// point (fusion_kernels.h has the contract).
#include "kernels/fusion_kernels.h"
#include "kernels/table.h"

namespace facekit::kernels {

void pyr_up_rows_scalar(const float* a, const float* b, const float* c, std::size_t count,
                        float* even, float* odd) {
    for (std::size_t i = 0; i < count; ++i) {
        even[i] = ((a[i] + c[i]) + b[i] * 6.0f) * 0.125f;
        odd[i] = (b[i] + c[i]) * 0.5f;
    }
}

void pyr_up_rows(const float* a, const float* b, const float* c, std::size_t count, float* even,
                 float* odd) {
    run(&KernelTable::pyr_up_rows, a, b, c, count, even, odd);
}

}  // namespace facekit::kernels
