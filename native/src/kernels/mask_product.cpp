// The product of two 8-bit masks, (a * b + 127) / 255: the scalar reference (every SIMD variant
// equals it) and the dispatching entry point (beauty_kernels.h has the contract).
#include <cstddef>
#include <cstdint>

#include "kernels/beauty_kernels.h"
#include "kernels/table.h"

namespace facekit::kernels {

void mask_product_scalar(const std::uint8_t* a, const std::uint8_t* b, std::size_t count,
                         std::uint8_t* out) {
    for (std::size_t i = 0; i < count; ++i)
        out[i] = static_cast<std::uint8_t>((a[i] * b[i] + 127) / 255);
}

void mask_product(const std::uint8_t* a, const std::uint8_t* b, std::size_t count,
                  std::uint8_t* out) {
    run(&KernelTable::mask_product, a, b, count, out);
}

}  // namespace facekit::kernels
