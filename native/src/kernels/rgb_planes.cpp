// The multi-band blend's input split into planes, planes[c][i] = top[3i+c] - base[3i+c], and its
// output joined back, out[3i+c] = base[3i+c] + planes[c][i] rounded to a byte: the scalar
// references and the dispatching entry points (fusion_kernels.h has the contracts).
#include <algorithm>

#include "kernels/fusion_kernels.h"
#include "kernels/table.h"

namespace facekit::kernels {

void rgb_difference_scalar(const std::uint8_t* top, const std::uint8_t* base, std::size_t count,
                           float* r, float* g, float* b) {
    float* planes[3] = {r, g, b};
    for (std::size_t i = 0; i < count; ++i)
        for (int c = 0; c < 3; ++c)
            planes[c][i] = static_cast<float>(top[3 * i + c]) - static_cast<float>(base[3 * i + c]);
}

void rgb_add_round_scalar(const std::uint8_t* base, const float* r, const float* g,
                          const float* b, std::size_t count, std::uint8_t* out) {
    const float* planes[3] = {r, g, b};
    for (std::size_t i = 0; i < count; ++i)
        for (int c = 0; c < 3; ++c) {
            const float v = static_cast<float>(base[3 * i + c]) + planes[c][i];
            const float clamped = std::min(std::max(0.0f, v), 255.0f);  // max(0, NaN) is 0
            out[3 * i + c] = static_cast<std::uint8_t>(static_cast<int>(clamped + 0.5f));
        }
}

void rgb_difference(const std::uint8_t* top, const std::uint8_t* base, std::size_t count,
                    float* r, float* g, float* b) {
    run(&KernelTable::rgb_difference, top, base, count, r, g, b);
}

void rgb_add_round(const std::uint8_t* base, const float* r, const float* g, const float* b,
                   std::size_t count, std::uint8_t* out) {
    run(&KernelTable::rgb_add_round, base, r, g, b, count, out);
}

}  // namespace facekit::kernels
