// The guided filter's per-window coefficients: the scalar reference (every SIMD variant equals it)
// and the dispatching entry point (beauty_kernels.h has the contract).
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>

#include "kernels/beauty_kernels.h"
#include "kernels/table.h"

namespace facekit::kernels {

void guided_coefficients_scalar(const std::uint32_t* sum_i, const std::uint32_t* sum_ii,
                                std::size_t count, float inv_n, float eps, std::uint32_t* a_q,
                                std::uint32_t* b_q) {
    for (std::size_t i = 0; i < count; ++i) {
        const float mean = static_cast<float>(sum_i[i]) * inv_n;
        const float corr = static_cast<float>(sum_ii[i]) * inv_n;
        const float var = std::max(corr - mean * mean, 0.0f);
        const float a = var / (var + eps);
        const float b = mean - a * mean;
        a_q[i] = static_cast<std::uint32_t>(a * 4096.0f + 0.5f);
        b_q[i] = static_cast<std::uint32_t>(std::max(b, 0.0f) * 16.0f + 0.5f);
    }
}

void guided_coefficients(const std::uint32_t* sum_i, const std::uint32_t* sum_ii,
                         std::size_t count, float inv_n, float eps, std::uint32_t* a_q,
                         std::uint32_t* b_q) {
    run(&KernelTable::guided_coefficients, sum_i, sum_ii, count, inv_n, eps, a_q, b_q);
}

}  // namespace facekit::kernels
