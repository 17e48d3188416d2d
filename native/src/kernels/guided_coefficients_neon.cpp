// NEON (aarch64) path of the guided filter's per-window coefficients (guided_coefficients.cpp is
// the reference; simd_neon.h says how every path stays bit-identical to it).
#include "kernels/simd_neon.h"

namespace facekit::kernels {

namespace {

struct Coefficients {
    float32x4_t inv, eps, zero, half, a_scale, b_scale;
};

inline void coefficients4(const Coefficients& k, const std::uint32_t* sum_i,
                          const std::uint32_t* sum_ii, std::uint32_t* a_q, std::uint32_t* b_q) {
    const float32x4_t mean = vmulq_f32(vcvtq_f32_u32(vld1q_u32(sum_i)), k.inv);
    const float32x4_t corr = vmulq_f32(vcvtq_f32_u32(vld1q_u32(sum_ii)), k.inv);
    const float32x4_t var = std_max(vsubq_f32(corr, vmulq_f32(mean, mean)), k.zero);
    const float32x4_t a = vdivq_f32(var, vaddq_f32(var, k.eps));
    const float32x4_t b = vsubq_f32(mean, vmulq_f32(a, mean));
    vst1q_u32(a_q, vcvtq_u32_f32(vaddq_f32(vmulq_f32(a, k.a_scale), k.half)));
    vst1q_u32(b_q, vcvtq_u32_f32(vaddq_f32(vmulq_f32(std_max(b, k.zero), k.b_scale), k.half)));
}

}  // namespace

void guided_coefficients_neon(const std::uint32_t* sum_i, const std::uint32_t* sum_ii,
                              std::size_t count, float inv_n, float eps, std::uint32_t* a_q,
                              std::uint32_t* b_q) {
    Coefficients k;
    k.inv = vdupq_n_f32(inv_n);
    k.eps = vdupq_n_f32(eps);
    k.zero = vdupq_n_f32(0.0f);
    k.half = vdupq_n_f32(0.5f);
    k.a_scale = vdupq_n_f32(4096.0f);
    k.b_scale = vdupq_n_f32(16.0f);
    std::size_t i = 0;
    for (; i + 8 <= count; i += 8) {
        coefficients4(k, sum_i + i, sum_ii + i, a_q + i, b_q + i);
        coefficients4(k, sum_i + i + 4, sum_ii + i + 4, a_q + i + 4, b_q + i + 4);
    }
    if (i < count)
        guided_coefficients_scalar(sum_i + i, sum_ii + i, count - i, inv_n, eps, a_q + i, b_q + i);
}

}  // namespace facekit::kernels
