#include "facekit/detection.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

#include "facekit/arena.h"

namespace facekit {

namespace {

// SsdAnchorsCalculator's CalculateScale (float arithmetic kept as there).
float calculate_scale(float min_scale, float max_scale, int stride_index, int num_strides) {
    if (num_strides == 1) return (min_scale + max_scale) * 0.5f;
    return min_scale + (max_scale - min_scale) * 1.0f * stride_index / (num_strides - 1.0f);
}

// A decoded detection before suppression: plain values only (no keypoints; see the header).
struct Candidate {
    float score;
    float xmin, ymin, width, height;  // in the network input's normalized frame
    std::uint32_t anchor;
};

// IoU as NonMaxSuppressionCalculator's OverlapSimilarity(INTERSECTION_OVER_UNION).
float overlap(const Candidate& a, const Candidate& b) {
    const float axmax = a.xmin + a.width, aymax = a.ymin + a.height;
    const float bxmax = b.xmin + b.width, bymax = b.ymin + b.height;
    if (b.xmin > axmax || bxmax < a.xmin || b.ymin > aymax || bymax < a.ymin) return 0.0f;
    const float iw = std::min(axmax, bxmax) - std::max(a.xmin, b.xmin);
    const float ih = std::min(aymax, bymax) - std::max(a.ymin, b.ymin);
    const float intersection = iw * ih;
    const float normalization = a.width * a.height + b.width * b.height - intersection;
    return normalization > 0.0f ? intersection / normalization : 0.0f;
}

bool all_finite(const float* values, int count) {
    for (int i = 0; i < count; ++i) {
        if (!std::isfinite(values[i])) return false;
    }
    return true;
}

}  // namespace

DetectorModel detector_model(std::string_view name) {
    if (name == "short_range") return DetectorModel::ShortRange;
    if (name == "full_range") return DetectorModel::FullRange;
    throw std::invalid_argument("unknown face detection model '" + std::string(name) +
                                "': expected short_range or full_range");
}

const char* detector_model_name(DetectorModel model) noexcept {
    return model == DetectorModel::FullRange ? "full_range" : "short_range";
}

std::vector<Anchor> generate_anchors(const SsdAnchorOptions& o) {
    if (o.num_layers < 1 || static_cast<int>(o.strides.size()) != o.num_layers)
        throw std::invalid_argument("SSD anchors need num_layers >= 1 and one stride per layer");
    if (o.input_width <= 0 || o.input_height <= 0)
        throw std::invalid_argument("SSD anchors need a positive input size");
    for (int stride : o.strides) {
        if (stride <= 0) throw std::invalid_argument("SSD anchor strides must be positive");
    }
    if (o.aspect_ratios.empty())
        throw std::invalid_argument("SSD anchors need at least one aspect ratio");
    for (float ratio : o.aspect_ratios) {
        if (!(ratio > 0.0f))
            throw std::invalid_argument("SSD anchor aspect ratios must be positive");
    }

    std::vector<Anchor> anchors;
    const int num_strides = static_cast<int>(o.strides.size());
    int layer_id = 0;
    while (layer_id < o.num_layers) {
        std::vector<float> anchor_height, anchor_width, aspect_ratios, scales;
        // Consecutive layers of one stride share a feature map: their anchors interleave per cell.
        int last_same_stride_layer = layer_id;
        while (last_same_stride_layer < num_strides &&
               o.strides[last_same_stride_layer] == o.strides[layer_id]) {
            const float scale =
                calculate_scale(o.min_scale, o.max_scale, last_same_stride_layer, num_strides);
            if (last_same_stride_layer == 0 && o.reduce_boxes_in_lowest_layer) {
                aspect_ratios.insert(aspect_ratios.end(), {1.0f, 2.0f, 0.5f});
                scales.insert(scales.end(), {0.1f, scale, scale});
            } else {
                for (float ratio : o.aspect_ratios) {
                    aspect_ratios.push_back(ratio);
                    scales.push_back(scale);
                }
                if (o.interpolated_scale_aspect_ratio > 0.0f) {
                    const float scale_next =
                        last_same_stride_layer == num_strides - 1
                            ? 1.0f
                            : calculate_scale(o.min_scale, o.max_scale, last_same_stride_layer + 1,
                                              num_strides);
                    scales.push_back(std::sqrt(scale * scale_next));
                    aspect_ratios.push_back(o.interpolated_scale_aspect_ratio);
                }
            }
            ++last_same_stride_layer;
        }
        for (std::size_t i = 0; i < aspect_ratios.size(); ++i) {
            const float ratio_sqrt = std::sqrt(aspect_ratios[i]);
            anchor_height.push_back(scales[i] / ratio_sqrt);
            anchor_width.push_back(scales[i] * ratio_sqrt);
        }
        const int stride = o.strides[layer_id];
        const int map_height = static_cast<int>(std::ceil(1.0f * o.input_height / stride));
        const int map_width = static_cast<int>(std::ceil(1.0f * o.input_width / stride));
        for (int y = 0; y < map_height; ++y) {
            for (int x = 0; x < map_width; ++x) {
                for (std::size_t id = 0; id < anchor_height.size(); ++id) {
                    Anchor a;
                    a.x_center = (x + o.anchor_offset_x) * 1.0f / map_width;
                    a.y_center = (y + o.anchor_offset_y) * 1.0f / map_height;
                    a.width = o.fixed_anchor_size ? 1.0f : anchor_width[id];
                    a.height = o.fixed_anchor_size ? 1.0f : anchor_height[id];
                    anchors.push_back(a);
                }
            }
        }
        layer_id = last_same_stride_layer;
    }
    return anchors;
}

SsdAnchorOptions anchor_options(DetectorModel model) {
    SsdAnchorOptions o;
    o.min_scale = 0.1484375f;
    o.max_scale = 0.75f;
    o.anchor_offset_x = 0.5f;
    o.anchor_offset_y = 0.5f;
    o.aspect_ratios = {1.0f};
    o.fixed_anchor_size = true;
    o.input_width = o.input_height = detector_spec(model).input_size;
    if (model == DetectorModel::FullRange) {
        // face_detection_full_range.pbtxt
        o.num_layers = 1;
        o.strides = {4};
        o.interpolated_scale_aspect_ratio = 0.0f;
    } else {
        // face_detection_short_range.pbtxt (interpolated_scale_aspect_ratio: its 1.0 default)
        o.num_layers = 4;
        o.strides = {8, 16, 16, 16};
        o.interpolated_scale_aspect_ratio = 1.0f;
    }
    return o;
}

const DetectorSpec& detector_spec(DetectorModel model) noexcept {
    static const DetectorSpec short_range{128, 896, 0.5};
    static const DetectorSpec full_range{192, 2304, 0.6};
    return model == DetectorModel::FullRange ? full_range : short_range;
}

const std::vector<Anchor>& detector_anchors(DetectorModel model) {
    static const std::vector<Anchor> short_range =
        generate_anchors(anchor_options(DetectorModel::ShortRange));
    static const std::vector<Anchor> full_range =
        generate_anchors(anchor_options(DetectorModel::FullRange));
    return model == DetectorModel::FullRange ? full_range : short_range;
}

void validate_decoding(float min_score, float iou_threshold, int max_faces,
                       const RotatedRect& rect) {
    if (!(min_score >= 0.0f && min_score <= 1.0f))
        throw std::invalid_argument("min_score must be a number in [0, 1], got " +
                                    std::to_string(min_score));
    if (!(iou_threshold >= 0.0f && iou_threshold <= 1.0f))
        throw std::invalid_argument("iou_threshold must be a number in [0, 1], got " +
                                    std::to_string(iou_threshold));
    if (max_faces < 1)
        throw std::invalid_argument("max_faces must be at least 1, got " +
                                    std::to_string(max_faces));
    if (!std::isfinite(rect.center_x) || !std::isfinite(rect.center_y) ||
        !std::isfinite(rect.width) || !std::isfinite(rect.height) || !std::isfinite(rect.rotation))
        throw std::invalid_argument("detection rect is not finite (NaN or inf)");
    if (!(rect.width > 0.0 && rect.height > 0.0))
        throw std::invalid_argument("detection rect needs a positive size");
}

FaceBox projected_box(const RotatedRect& rect, float score, float x0, float y0, float x1,
                      float y1) noexcept {
    const Point corners[4] = {rect_point(rect, x0, y0), rect_point(rect, x1, y0),
                              rect_point(rect, x0, y1), rect_point(rect, x1, y1)};
    double lo_x = corners[0].x, hi_x = lo_x, lo_y = corners[0].y, hi_y = lo_y;
    for (const Point& p : corners) {
        lo_x = std::min(lo_x, p.x);
        hi_x = std::max(hi_x, p.x);
        lo_y = std::min(lo_y, p.y);
        hi_y = std::max(hi_y, p.y);
    }
    return {score, static_cast<float>(lo_x), static_cast<float>(lo_y),
            static_cast<float>(hi_x - lo_x), static_cast<float>(hi_y - lo_y)};
}

void validate(const DetectionParams& p) {
    if (p.model != DetectorModel::ShortRange && p.model != DetectorModel::FullRange)
        throw std::invalid_argument("unknown face detection model");
    validate_decoding(p.min_score, p.iou_threshold, p.max_faces, p.rect);
}

std::size_t decode_detections(const float* regressors, std::size_t regressors_count,
                              const float* classificators, std::size_t classificators_count,
                              const DetectionParams& params, FaceBox* boxes, float* keypoints) {
    validate(params);
    const DetectorSpec& spec = detector_spec(params.model);
    const std::size_t num_anchors = static_cast<std::size_t>(spec.num_anchors);
    const std::string model_name = detector_model_name(params.model);
    if (regressors_count != num_anchors * kDetectorValuesPerAnchor)
        throw std::invalid_argument("regressors of the " + model_name + " model must hold " +
                                    std::to_string(num_anchors) + "x" +
                                    std::to_string(kDetectorValuesPerAnchor) + " = " +
                                    std::to_string(num_anchors * kDetectorValuesPerAnchor) +
                                    " values, got " + std::to_string(regressors_count));
    if (classificators_count != num_anchors)
        throw std::invalid_argument("classificators of the " + model_name + " model must hold " +
                                    std::to_string(num_anchors) + " values, got " +
                                    std::to_string(classificators_count));
    if (regressors == nullptr || classificators == nullptr || boxes == nullptr ||
        keypoints == nullptr)
        throw std::invalid_argument("detection buffers must not be null");

    const std::vector<Anchor>& anchors = detector_anchors(params.model);
    const float scale = static_cast<float>(spec.input_size);  // x, y, w and h scales alike

    // TensorsToDetectionsCalculator: clipped sigmoid scores, XYWH boxes relative to the anchors.
    std::vector<Candidate> remained;
    for (std::size_t i = 0; i < num_anchors; ++i) {
        float logit = classificators[i];
        logit = logit < -kDetectorScoreClip ? -kDetectorScoreClip : logit;
        logit = logit > kDetectorScoreClip ? kDetectorScoreClip : logit;
        const float score = 1.0f / (1.0f + std::exp(-logit));
        // NaN logits fall out here too. So do scores that underflow to 0 (logits below about
        // -88): a cluster of them would have no weight to average with (MediaPipe gives NaN).
        if (!(score >= params.min_score) || !(score > 0.0f)) continue;
        const float* raw = regressors + i * kDetectorValuesPerAnchor;
        if (!all_finite(raw, kDetectorValuesPerAnchor)) continue;
        const Anchor& a = anchors[i];
        const float x_center = raw[0] / scale * a.width + a.x_center;
        const float y_center = raw[1] / scale * a.height + a.y_center;
        const float w = raw[2] / scale * a.width;
        const float h = raw[3] / scale * a.height;
        const float xmin = x_center - w / 2.f, ymin = y_center - h / 2.f;
        const float xmax = x_center + w / 2.f, ymax = y_center + h / 2.f;
        const float width = xmax - xmin, height = ymax - ymin;
        if (!(width >= 0.0f && height >= 0.0f)) continue;
        remained.push_back({score, xmin, ymin, width, height, static_cast<std::uint32_t>(i)});
    }
    std::stable_sort(remained.begin(), remained.end(),
                     [](const Candidate& a, const Candidate& b) { return a.score > b.score; });

    // Weighted NMS, stopping once max_faces faces are out.
    std::vector<Candidate> cluster, rest;
    cluster.reserve(remained.size());
    rest.reserve(remained.size());
    std::size_t count = 0;
    const std::size_t max_faces = static_cast<std::size_t>(params.max_faces);
    while (!remained.empty() && count < max_faces) {
        const Candidate top = remained.front();
        cluster.clear();
        rest.clear();
        cluster.push_back(top);
        for (std::size_t i = 1; i < remained.size(); ++i) {
            const bool merge = overlap(remained[i], top) > params.iou_threshold;
            (merge ? cluster : rest).push_back(remained[i]);
        }

        float w_xmin = 0.0f, w_ymin = 0.0f, w_xmax = 0.0f, w_ymax = 0.0f, total_score = 0.0f;
        float sums[2 * kDetectorKeypoints] = {};
        for (const Candidate& c : cluster) {
            total_score += c.score;
            w_xmin += c.xmin * c.score;
            w_ymin += c.ymin * c.score;
            w_xmax += (c.xmin + c.width) * c.score;
            w_ymax += (c.ymin + c.height) * c.score;
            // Keypoints are decoded here, from the raw outputs, and only for output clusters.
            const float* raw = regressors + std::size_t{c.anchor} * kDetectorValuesPerAnchor + 4;
            const Anchor& a = anchors[c.anchor];
            for (int k = 0; k < kDetectorKeypoints; ++k) {
                const float kx = raw[2 * k] / scale * a.width + a.x_center;
                const float ky = raw[2 * k + 1] / scale * a.height + a.y_center;
                sums[2 * k] += kx * c.score;
                sums[2 * k + 1] += ky * c.score;
            }
        }
        const float xmin = w_xmin / total_score, ymin = w_ymin / total_score;
        const float width = (w_xmax / total_score) - xmin, height = (w_ymax / total_score) - ymin;
        const float xmax = xmin + width, ymax = ymin + height;

        // Back to image pixels through the crop rect.
        const RotatedRect& rect = params.rect;
        boxes[count] = projected_box(rect, top.score, xmin, ymin, xmax, ymax);
        float* out = keypoints + count * (2 * kDetectorKeypoints);
        for (int k = 0; k < kDetectorKeypoints; ++k) {
            const Point p = rect_point(rect, sums[2 * k] / total_score,
                                       sums[2 * k + 1] / total_score);
            out[2 * k] = static_cast<float>(p.x);
            out[2 * k + 1] = static_cast<float>(p.y);
        }
        secure_zero(sums, sizeof(sums));
        ++count;
        remained.swap(rest);
    }
    return count;
}

}  // namespace facekit
