// The skin likelihood of RGB pixels under a chromaticity model: the scalar reference (every SIMD
// variant equals it) and the dispatching entry point (beauty_kernels.h has the contract).
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>

#include "kernels/beauty_kernels.h"
#include "kernels/table.h"

namespace facekit::kernels {

void skin_likelihood_scalar(const std::uint8_t* rgb, const std::uint8_t* face, std::size_t count,
                            const SkinColour& m, std::uint8_t* likelihood,
                            std::uint8_t* colour) {
    for (std::size_t i = 0; i < count; ++i) {
        const int r = rgb[3 * i], g = rgb[3 * i + 1], b = rgb[3 * i + 2];
        const int s = r + g + b;
        float cr = 0.0f, cg = 0.0f;
        if (s != 0) {
            const float inv = 255.0f / static_cast<float>(s);
            cr = std::floor(static_cast<float>(r) * inv + 0.5f);
            cg = std::floor(static_cast<float>(g) * inv + 0.5f);
        }
        const float d = std::fabs(cr - m.r) * m.scale_r + std::fabs(cg - m.g) * m.scale_g;
        const float tight = std::min(std::max((m.zero_in - d) * m.ramp_in, 0.0f), 1.0f);
        const float loose = std::min(std::max((m.zero_out - d) * m.ramp_out, 0.0f), 1.0f);
        const float f = static_cast<float>(face[i]);
        const float like = tight * f + loose * (255.0f - f);
        const float y = static_cast<float>((77 * r + 150 * g + 29 * b + 128) >> 8);
        const float dark = std::min(std::max((y - m.dark_lo) * m.dark_ramp, 0.0f), 1.0f);
        colour[i] = static_cast<std::uint8_t>(std::floor(like + 0.5f));
        likelihood[i] = static_cast<std::uint8_t>(std::floor(like * dark + 0.5f));
    }
}

void skin_likelihood(const std::uint8_t* rgb, const std::uint8_t* face, std::size_t count,
                     const SkinColour& m, std::uint8_t* likelihood, std::uint8_t* colour) {
    run(&KernelTable::skin_likelihood, rgb, face, count, m, likelihood, colour);
}

}  // namespace facekit::kernels
