#include "facekit/draw.h"

#include <cmath>
#include <cstddef>

namespace facekit {

void draw_points(std::uint8_t* image, int width, int height, std::ptrdiff_t stride,
                 const float* points, int count, int point_stride, const std::uint8_t rgb[3],
                 int radius) {
    for (int i = 0; i < count; ++i) {
        const float x = points[static_cast<std::ptrdiff_t>(i) * point_stride];
        const float y = points[static_cast<std::ptrdiff_t>(i) * point_stride + 1];
        if (!std::isfinite(x) || !std::isfinite(y)) continue;
        // Continuous coordinates: the pixel containing (x, y) is (floor(x), floor(y)).
        const int cx = static_cast<int>(std::floor(x)), cy = static_cast<int>(std::floor(y));
        for (int dy = -radius; dy <= radius; ++dy) {
            for (int dx = -radius; dx <= radius; ++dx) {
                const int px = cx + dx, py = cy + dy;
                if (dx * dx + dy * dy > radius * radius || px < 0 || py < 0 || px >= width ||
                    py >= height)
                    continue;
                std::uint8_t* at = image + static_cast<std::ptrdiff_t>(py) * stride + px * 3;
                at[0] = rgb[0];
                at[1] = rgb[1];
                at[2] = rgb[2];
            }
        }
    }
}

}  // namespace facekit
