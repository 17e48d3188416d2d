// yuv420p <-> packed RGB rows: the scalar references and the dispatching entry points
// (video_kernels.h has the contracts).
#include "kernels/table.h"
#include "kernels/video_kernels.h"

namespace facekit::kernels {

namespace {

inline std::uint8_t clamp_byte(std::int32_t v) {
    return static_cast<std::uint8_t>(v < 0 ? 0 : v > 255 ? 255 : v);
}

}  // namespace

void yuv_to_rgb_span_scalar(const std::uint8_t* y, const std::uint8_t* u0, const std::uint8_t* u1,
                            const std::uint8_t* v0, const std::uint8_t* v1, int width,
                            int x_begin, int x_end, const YuvCoefficients& k, std::uint8_t* rgb) {
    const int last = (width + 1) / 2 - 1;
    const std::int32_t near = k.centred ? 3 : 2, far = k.centred ? 1 : 2;
    for (int x = x_begin; x < x_end; ++x) {
        const int i = x / 2;
        const int j = (x & 1) ? (i < last ? i + 1 : last) : k.centred && i > 0 ? i - 1 : i;
        const std::int32_t u16 = near * (3 * u0[i] + u1[i]) + far * (3 * u0[j] + u1[j]) - 2048;
        const std::int32_t v16 = near * (3 * v0[i] + v1[i]) + far * (3 * v0[j] + v1[j]) - 2048;
        const std::int32_t luma = k.y_gain * (y[x] - k.y_offset) + (1 << 19);
        rgb[3 * x] = clamp_byte((luma + k.r_v * v16) >> 20);
        rgb[3 * x + 1] = clamp_byte((luma + k.g_u * u16 + k.g_v * v16) >> 20);
        rgb[3 * x + 2] = clamp_byte((luma + k.b_u * u16) >> 20);
    }
}

void yuv_to_rgb_row_scalar(const std::uint8_t* y, const std::uint8_t* u0, const std::uint8_t* u1,
                           const std::uint8_t* v0, const std::uint8_t* v1, int width,
                           const YuvCoefficients& k, std::uint8_t* rgb) {
    yuv_to_rgb_span_scalar(y, u0, u1, v0, v1, width, 0, width, k, rgb);
}

void rgb_to_y_span_scalar(const std::uint8_t* rgb, int width, int x_begin,
                          const YuvCoefficients& k, std::uint8_t* y) {
    for (int x = x_begin; x < width; ++x) {
        const std::uint8_t* p = rgb + 3 * x;
        y[x] = clamp_byte((k.y_r * p[0] + k.y_g * p[1] + k.y_b * p[2] + k.y_bias) >> 16);
    }
}

void rgb_to_y_row_scalar(const std::uint8_t* rgb, int width, const YuvCoefficients& k,
                         std::uint8_t* y) {
    rgb_to_y_span_scalar(rgb, width, 0, k, y);
}

void rgb_to_uv_span_scalar(const std::uint8_t* r0, const std::uint8_t* r1, const std::uint8_t* r2,
                           const std::uint8_t* r3, int width, int i_begin,
                           const YuvCoefficients& k, std::uint8_t* u, std::uint8_t* v) {
    for (int i = i_begin; i < (width + 1) / 2; ++i) {
        const int a = 3 * (2 * i), b = 3 * (2 * i + 1 < width ? 2 * i + 1 : 2 * i);
        std::int32_t s[3];
        for (int c = 0; c < 3; ++c)
            s[c] = r0[a + c] + r0[b + c] + 3 * (r1[a + c] + r1[b + c] + r2[a + c] + r2[b + c]) +
                   r3[a + c] + r3[b + c];
        u[i] = clamp_byte((k.u_r * s[0] + k.u_g * s[1] + k.u_b * s[2] + k.c_bias) >> 20);
        v[i] = clamp_byte((k.v_r * s[0] + k.v_g * s[1] + k.v_b * s[2] + k.c_bias) >> 20);
    }
}

void rgb_to_uv_row_scalar(const std::uint8_t* r0, const std::uint8_t* r1, const std::uint8_t* r2,
                          const std::uint8_t* r3, int width, const YuvCoefficients& k,
                          std::uint8_t* u, std::uint8_t* v) {
    rgb_to_uv_span_scalar(r0, r1, r2, r3, width, 0, k, u, v);
}

void yuv_to_rgb_row(const std::uint8_t* y, const std::uint8_t* u0, const std::uint8_t* u1,
                    const std::uint8_t* v0, const std::uint8_t* v1, int width,
                    const YuvCoefficients& k, std::uint8_t* rgb) {
    run(&KernelTable::yuv_to_rgb_row, y, u0, u1, v0, v1, width, k, rgb);
}

void rgb_to_y_row(const std::uint8_t* rgb, int width, const YuvCoefficients& k, std::uint8_t* y) {
    run(&KernelTable::rgb_to_y_row, rgb, width, k, y);
}

void rgb_to_uv_row(const std::uint8_t* r0, const std::uint8_t* r1, const std::uint8_t* r2,
                   const std::uint8_t* r3, int width, const YuvCoefficients& k, std::uint8_t* u,
                   std::uint8_t* v) {
    run(&KernelTable::rgb_to_uv_row, r0, r1, r2, r3, width, k, u, v);
}

}  // namespace facekit::kernels
