// One band of the multi-band blend, acc += lap * mask: the scalar reference and the dispatching
// entry point (fusion_kernels.h has the contract).
#include "kernels/fusion_kernels.h"
#include "kernels/table.h"

namespace facekit::kernels {

void masked_add_scalar(const float* lap, const float* mask, std::size_t count, float* acc) {
    for (std::size_t i = 0; i < count; ++i) acc[i] = acc[i] + lap[i] * mask[i];
}

void masked_add(const float* lap, const float* mask, std::size_t count, float* acc) {
    run(&KernelTable::masked_add, lap, mask, count, acc);
}

}  // namespace facekit::kernels
