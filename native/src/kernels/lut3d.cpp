// A trilinear 3D colour LUT: the scalar reference (every SIMD variant equals it) and the
// dispatching entry point (beauty_kernels.h has the contract).
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>

#include "kernels/beauty_kernels.h"
#include "kernels/table.h"

namespace facekit::kernels {

void lut3d_scalar(const std::uint8_t* in, std::size_t count, const std::uint8_t* lut, int size,
                  std::uint8_t* out) {
    const int cells = size - 1;
    const std::size_t plane = static_cast<std::size_t>(size) * size;
    for (std::size_t i = 0; i < count; ++i) {
        int index[3], weight[3];
        for (int c = 0; c < 3; ++c) {
            const int p = (in[i * 3 + c] * cells * 256 + 127) / 255;
            index[c] = std::min(p >> 8, cells - 1);
            weight[c] = p - 256 * index[c];
        }
        const std::uint8_t* base =
            lut + (index[2] * plane + static_cast<std::size_t>(index[1]) * size + index[0]) * 3;
        for (int c = 0; c < 3; ++c) {
            std::uint32_t sum = 0;
            for (int corner = 0; corner < 8; ++corner) {
                const int dr = corner & 1, dg = (corner >> 1) & 1, db = (corner >> 2) & 1;
                const std::uint32_t w = static_cast<std::uint32_t>(
                    (dr ? weight[0] : 256 - weight[0]) * (dg ? weight[1] : 256 - weight[1])) *
                    static_cast<std::uint32_t>(db ? weight[2] : 256 - weight[2]);
                sum += w * base[((db * plane) + static_cast<std::size_t>(dg) * size + dr) * 3 + c];
            }
            out[i * 3 + c] = static_cast<std::uint8_t>((sum + (1u << 23)) >> 24);
        }
    }
}

void lut3d(const std::uint8_t* in, std::size_t count, const std::uint8_t* lut, int size,
           std::uint8_t* out) {
    run(&KernelTable::lut3d, in, count, lut, size, out);
}

}  // namespace facekit::kernels
