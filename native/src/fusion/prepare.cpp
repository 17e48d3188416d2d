// The user's side of fusion, done once per user photo: the face's crop, resampled to at most
// kFusionMaxTextureSide pixels, its mesh in texture pixels, and its skin colour statistics.
#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

#include "facekit/landmarks.h"
#include "fusion/fusion_internal.h"

namespace facekit {

using namespace fusion;

FusionUser prepare_fusion_user(const ImageView& src, const float* landmarks, int count,
                               int point_stride, const MeshRegions& regions, Arena& arena) {
    validate(src);
    if (src.format == PixelFormat::Gray)
        throw std::invalid_argument("fusion needs a colour image (RGB, BGR, RGBA or BGRA)");
    if (landmarks == nullptr || count < kMeshLandmarks || point_stride < 2)
        throw std::invalid_argument("fusion needs the " + std::to_string(kMeshLandmarks) +
                                    "-point mesh, got " + std::to_string(count) + " points");
    check_regions(regions);
    const Vec2* mesh = read_points(landmarks, kMeshLandmarks, point_stride, arena);
    if (!(oval_width(mesh, regions) >= static_cast<float>(kFusionMinFaceWidth)))
        throw std::invalid_argument("the user's face is too small: fusion needs a face at least " +
                                    std::to_string(kFusionMinFaceWidth) + " pixels wide");
    float lo_x = 1e30f, lo_y = 1e30f, hi_x = -1e30f, hi_y = -1e30f;
    for (int i = 0; i < kMeshLandmarks; ++i) {
        lo_x = std::min(lo_x, mesh[i].x), hi_x = std::max(hi_x, mesh[i].x);
        lo_y = std::min(lo_y, mesh[i].y), hi_y = std::max(hi_y, mesh[i].y);
    }
    const float margin = 0.1f * std::max(hi_x - lo_x, hi_y - lo_y);
    auto inside = [](float v, int size) {
        return v > 0 ? static_cast<int>(std::min(v, static_cast<float>(size))) : 0;
    };
    const int x0 = inside(std::floor(lo_x - margin), src.width);
    const int y0 = inside(std::floor(lo_y - margin), src.height);
    const int x1 = inside(std::ceil(hi_x + margin) + 1, src.width);
    const int y1 = inside(std::ceil(hi_y + margin) + 1, src.height);
    const int cw = x1 - x0, ch = y1 - y0;
    if (cw < kFusionMinFaceWidth / 2 || ch < kFusionMinFaceWidth / 2)
        throw std::invalid_argument("the user's face lies outside the image");

    // Area resampling: each texture pixel is the mean of the crop pixels its footprint covers.
    const int longer = std::max(cw, ch);
    const float scale = longer > kFusionMaxTextureSide
                            ? static_cast<float>(kFusionMaxTextureSide) / static_cast<float>(longer)
                            : 1.0f;
    const int tw = std::max(1, static_cast<int>(std::lround(cw * scale)));
    const int th = std::max(1, static_cast<int>(std::lround(ch * scale)));
    auto* crop = arena.allocate_array<std::uint8_t>(static_cast<std::size_t>(cw) * ch * 3);
    copy_rgb(src, x0, y0, cw, ch, crop);
    std::uint8_t* texture = crop;
    if (tw != cw || th != ch) {
        texture = arena.allocate_array<std::uint8_t>(static_cast<std::size_t>(tw) * th * 3);
        for (int v = 0; v < th; ++v) {
            const int ya = static_cast<int>(static_cast<long long>(v) * ch / th);
            const int yb = std::max(ya + 1, static_cast<int>(static_cast<long long>(v + 1) * ch / th));
            for (int u = 0; u < tw; ++u) {
                const int xa = static_cast<int>(static_cast<long long>(u) * cw / tw);
                const int xb = std::max(xa + 1, static_cast<int>(static_cast<long long>(u + 1) * cw / tw));
                int sum[3] = {0, 0, 0};
                for (int y = ya; y < yb; ++y)
                    for (int x = xa; x < xb; ++x)
                        for (int c = 0; c < 3; ++c)
                            sum[c] += crop[(static_cast<std::size_t>(y) * cw + x) * 3 + c];
                const int n = (yb - ya) * (xb - xa);
                for (int c = 0; c < 3; ++c)
                    texture[(static_cast<std::size_t>(v) * tw + u) * 3 + c] =
                        static_cast<std::uint8_t>((sum[c] + n / 2) / n);
            }
        }
    }
    const float sx = static_cast<float>(tw) / static_cast<float>(cw);
    const float sy = static_cast<float>(th) / static_cast<float>(ch);
    auto* points = arena.allocate_array<float>(2 * kMeshLandmarks);
    auto* moved = arena.allocate_array<Vec2>(kMeshLandmarks);
    for (int i = 0; i < kMeshLandmarks; ++i) {
        // Pixel centres at integer coordinates on both sides.
        points[2 * i] = (mesh[i].x - static_cast<float>(x0) + 0.5f) * sx - 0.5f;
        points[2 * i + 1] = (mesh[i].y - static_cast<float>(y0) + 0.5f) * sy - 0.5f;
        moved[i] = {points[2 * i], points[2 * i + 1]};
    }
    auto* skin = arena.allocate_array<float>(kFusionSkinStats);
    const Frame f{0, 0, tw, th, arena};
    const int soft = std::max(1, static_cast<int>(0.02f * static_cast<float>(tw)));
    const Plane mask = skin_mask(f, moved, regions, soft);
    if (skin_stats(f, texture, mask, 1, skin) == 0)
        throw std::invalid_argument("the user's face shows no skin pixels to measure");
    FusionUser user;
    user.texture = texture, user.width = tw, user.height = th;
    user.mesh = points, user.skin = skin;
    return user;
}

}  // namespace facekit
