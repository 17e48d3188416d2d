// A 256-entry tone curve: the scalar reference (every SIMD variant equals it) and the dispatching
// entry point (beauty_kernels.h has the contract).
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>

#include "kernels/beauty_kernels.h"
#include "kernels/table.h"

namespace facekit::kernels {

void apply_table_scalar(const std::uint8_t* in, std::size_t count, const std::uint8_t table[256],
                        std::uint8_t* out) {
    for (std::size_t i = 0; i < count; ++i) out[i] = table[in[i]];
}

void apply_table(const std::uint8_t* in, std::size_t count, const std::uint8_t table[256],
                 std::uint8_t* out) {
    run(&KernelTable::apply_table, in, count, table, out);
}

}  // namespace facekit::kernels
