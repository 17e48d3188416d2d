// Scalar reference of the attention mesh's bilinear sampler and its dispatching entry point
// (attention_kernels.h has the contract).
#include <algorithm>

#include "kernels/attention_kernels.h"
#include "kernels/table.h"

namespace facekit::kernels {

void transform_bilinear_scalar(const BilinearTransform& transform, float* out) {
    const BilinearTransform t = transform;  // a local copy: the stores to `out` cannot alias it
    const std::ptrdiff_t c_count = t.channels;
    for (int y = 0; y < t.out_height; ++y) {
        for (int x = 0; x < t.out_width; ++x) {
            float* pixel = out + (static_cast<std::ptrdiff_t>(y) * t.out_width + x) * c_count;
            BilinearTap tap;
            if (bilinear_tap(t, x, y, tap))
                bilinear_channels(t, tap, 0, pixel);
            else
                std::fill(pixel, pixel + c_count, 0.0f);
        }
    }
}

void transform_bilinear(const BilinearTransform& t, float* out) {
    run(&KernelTable::transform_bilinear, t, out);
}

}  // namespace facekit::kernels
