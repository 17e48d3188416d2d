#include "facekit/warp.h"

#include <atomic>
#include <cmath>
#include <stdexcept>
#include <string>

#include "facekit/dispatch.h"
#include "kernels/table.h"

namespace facekit {

Point rect_point(const RotatedRect& rect, double nx, double ny) noexcept {
    const double c = std::cos(rect.rotation), s = std::sin(rect.rotation);
    const double u = (nx - 0.5) * rect.width, v = (ny - 0.5) * rect.height;
    return {rect.center_x + c * u - s * v, rect.center_y + s * u + c * v};
}

Affine rect_to_affine(const RotatedRect& rect, int out_width, int out_height) {
    if (out_width <= 0 || out_height <= 0)
        throw std::invalid_argument("crop output of " + std::to_string(out_width) + "x" +
                                    std::to_string(out_height) + " is not a positive size");
    const double c = std::cos(rect.rotation), s = std::sin(rect.rotation);
    const double step_x = rect.width / out_width, step_y = rect.height / out_height;
    // Output pixel (x, y) samples the rect at normalized (x / out_width, y / out_height), as
    // MediaPipe's ImageToTensor does (the networks were trained on crops made that way), and
    // rect_point maps a network's normalized outputs back with the same convention.
    const double u0 = -0.5 * rect.width, v0 = -0.5 * rect.height;
    return Affine{{c * step_x, -s * step_y, rect.center_x + c * u0 - s * v0,
                   s * step_x, c * step_y, rect.center_y + s * u0 + c * v0}};
}

void validate(const CropNormalize& p) {
    for (double v : p.transform.m) {
        if (!std::isfinite(v)) throw std::invalid_argument("crop transform is not finite (NaN or inf)");
    }
    for (int c = 0; c < 3; ++c) {
        if (!std::isfinite(p.scale[c]) || !std::isfinite(p.offset[c]))
            throw std::invalid_argument("normalization scale and offset must be finite");
    }
    if (p.out_width <= 0 || p.out_height <= 0 || p.out_width > kMaxCropSide ||
        p.out_height > kMaxCropSide)
        throw std::invalid_argument("crop output of " + std::to_string(p.out_width) + "x" +
                                    std::to_string(p.out_height) + " is outside 1.." +
                                    std::to_string(kMaxCropSide) + " per side");
    if (p.border != Border::Zero && p.border != Border::Clamp)
        throw std::invalid_argument("unknown border mode");
    // The map is affine, so its extremes over the output grid sit at the corners.
    const double xs[2] = {0.0, static_cast<double>(p.out_width - 1)};
    const double ys[2] = {0.0, static_cast<double>(p.out_height - 1)};
    for (double x : xs) {
        for (double y : ys) {
            const double* m = p.transform.m;
            const double sx = m[0] * x + m[1] * y + m[2], sy = m[3] * x + m[4] * y + m[5];
            if (std::fabs(sx) > kMaxCoordinate || std::fabs(sy) > kMaxCoordinate)
                throw std::invalid_argument(
                    "crop samples lie absurdly far outside the image (over 4M pixels)");
        }
    }
    // A side of one pixel never multiplies its step above, but the kernels step in float: a
    // step past float's range becomes inf there, and inf * 0 a NaN sample.
    for (const int i : {0, 1, 3, 4}) {
        if (std::fabs(p.transform.m[i]) > kMaxCoordinate)
            throw std::invalid_argument(
                "crop transform steps absurdly far (over 4M pixels per output pixel)");
    }
}

void crop_normalize(const ImageView& src, const CropNormalize& params, float* out) {
    validate(src);
    validate(params);
    if (out == nullptr) throw std::invalid_argument("crop output buffer is null");
    kernels::run(&kernels::KernelTable::crop_normalize, src, params, out);
}

}  // namespace facekit
