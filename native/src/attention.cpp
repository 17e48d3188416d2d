#include "facekit/attention.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

#include "kernels/attention_kernels.h"

namespace facekit {

namespace {

constexpr int kMaxChannels = 4096;

void check_pointer(const void* p, const char* what) {
    if (p == nullptr) throw std::invalid_argument(std::string(what) + " is null");
}

void check_finite(const float* values, int count, const char* what) {
    for (int i = 0; i < count; ++i) {
        if (!std::isfinite(values[i]))
            throw std::invalid_argument(std::string(what) + " is not finite (NaN or inf)");
    }
}

void check_index(int index, const char* what) {
    if (index < 0 || index >= kMeshLandmarks)
        throw std::invalid_argument(std::string("attention region ") + what + " " +
                                    std::to_string(index) + " is outside 0.." +
                                    std::to_string(kMeshLandmarks - 1));
}

void check_side(int side, const char* what) {
    if (side < 1 || side > kMaxCropSide)
        throw std::invalid_argument(std::string(what) + " " + std::to_string(side) +
                                    " is outside 1.." + std::to_string(kMaxCropSide));
}

// TransformLandmarks v2 on `count` (x, y) pairs with region k's matrix times its scale, each
// written over x, y of row rows[i] (or first + i) of `out`.
void transform_points(const float* points, int count, const float* matrix, const float* scale,
                      const int* rows, int first, float* out) {
    const float m00 = matrix[0] * scale[0], m01 = matrix[1] * scale[1];
    const float m03 = matrix[3] * scale[3], m10 = matrix[4] * scale[4];
    const float m11 = matrix[5] * scale[5], m13 = matrix[7] * scale[7];
    for (int i = 0; i < count; ++i) {
        const float x = points[2 * i], y = points[2 * i + 1];
        float* row = out + 3 * (rows != nullptr ? rows[i] : first + i);
        row[0] = x * m00 + y * m01 + m03;
        row[1] = x * m10 + y * m11 + m13;
    }
}

// LandmarksRefinementCalculator's assign_average: the mean z of an eye's contour.
float contour_depth(const float* mesh, const std::array<int, 16>& contour) {
    double z = 0;
    for (int index : contour) z += mesh[3 * index + 2];
    return static_cast<float>(z / static_cast<double>(contour.size()));
}

}  // namespace

void check_attention_region(const AttentionRegion& region) {
    if (region.subset.empty()) throw std::invalid_argument("attention region subset is empty");
    for (int index : region.subset) check_index(index, "subset index");
    check_index(region.left_index, "left rotation index");
    check_index(region.right_index, "right rotation index");
    if (region.left_index == region.right_index)
        throw std::invalid_argument("attention region rotation indices are the same point");
    if (!std::isfinite(region.target_rotation) || std::fabs(region.target_rotation) > 1e6)
        throw std::invalid_argument("attention region target rotation is not finite");
    if (!std::isfinite(region.scale_x) || !std::isfinite(region.scale_y) ||
        !(region.scale_x > 0) || !(region.scale_y > 0) || region.scale_x > 1e6 ||
        region.scale_y > 1e6)
        throw std::invalid_argument("attention region scale is not a positive finite number");
    check_side(region.output_width, "attention region output width");
    check_side(region.output_height, "attention region output height");
}

void attention_matrix(const float* mesh_raw, float mesh_scale, const AttentionRegion& region,
                      float out[16]) {
    check_pointer(mesh_raw, "mesh");
    check_pointer(out, "attention matrix buffer");
    check_attention_region(region);
    if (!std::isfinite(mesh_scale) || !(mesh_scale > 0))
        throw std::invalid_argument("mesh scale is not a positive finite number");
    // The operator's input is the mesh times mesh_scale in float32 (the model's MUL); only x, y
    // are read.
    auto x_of = [&](int i) { return static_cast<double>(mesh_raw[3 * i] * mesh_scale); };
    auto y_of = [&](int i) { return static_cast<double>(mesh_raw[3 * i + 1] * mesh_scale); };
    auto check = [&](int i) {
        if (!std::isfinite(x_of(i)) || !std::isfinite(y_of(i)))
            throw std::invalid_argument("mesh point " + std::to_string(i) + " is not finite");
    };
    check(region.left_index);
    check(region.right_index);
    for (int i : region.subset) check(i);

    const double dx = x_of(region.right_index) - x_of(region.left_index);
    const double dy = y_of(region.right_index) - y_of(region.left_index);
    if (dx == 0 && dy == 0)
        throw std::invalid_argument("attention region rotation points coincide");
    const double r = region.target_rotation - std::atan2(dy, dx);
    const double c = std::cos(r), s = std::sin(r);
    // The subset's box in the frame turned by r.
    double low_x = HUGE_VAL, low_y = HUGE_VAL, high_x = -HUGE_VAL, high_y = -HUGE_VAL;
    for (int i : region.subset) {
        const double x = x_of(i), y = y_of(i);
        const double ux = c * x - s * y, uy = s * x + c * y;
        low_x = std::min(low_x, ux);
        high_x = std::max(high_x, ux);
        low_y = std::min(low_y, uy);
        high_y = std::max(high_y, uy);
    }
    if (!(high_x - low_x > 0) || !(high_y - low_y > 0))
        throw std::invalid_argument("attention region box has zero width or height");
    // Its centre turned back, and the box's size per crop pixel.
    const double mid_x = (low_x + high_x) / 2, mid_y = (low_y + high_y) / 2;
    const double centre_x = c * mid_x + s * mid_y, centre_y = -s * mid_x + c * mid_y;
    const double size_x = (high_x - low_x) * region.scale_x / region.output_width;
    const double size_y = (high_y - low_y) * region.scale_y / region.output_height;
    // shift(centre) . rotate(-r) . scale(size) . shift(-output / 2)
    const double l00 = c * size_x, l01 = s * size_y, l10 = -s * size_x, l11 = c * size_y;
    const double half_w = region.output_width / 2.0, half_h = region.output_height / 2.0;
    const float m[16] = {static_cast<float>(l00), static_cast<float>(l01), 0.0f,
                         static_cast<float>(centre_x - (l00 * half_w + l01 * half_h)),
                         static_cast<float>(l10), static_cast<float>(l11), 0.0f,
                         static_cast<float>(centre_y - (l10 * half_w + l11 * half_h)),
                         0.0f, 0.0f, 1.0f, 0.0f,
                         0.0f, 0.0f, 0.0f, 1.0f};
    check_finite(m, 16, "attention matrix");  // a finite but absurd mesh can overflow float
    std::copy(m, m + 16, out);
}

void transform_bilinear(const float* input, int height, int width, int channels,
                        const float matrix[16], int out_height, int out_width, float* out) {
    check_pointer(input, "feature map");
    check_pointer(matrix, "sampling matrix");
    check_pointer(out, "crop buffer");
    check_side(height, "feature map height");
    check_side(width, "feature map width");
    if (channels < 1 || channels > kMaxChannels)
        throw std::invalid_argument("feature map channels " + std::to_string(channels) +
                                    " are outside 1.." + std::to_string(kMaxChannels));
    check_side(out_height, "crop height");
    check_side(out_width, "crop width");
    check_finite(matrix, 16, "sampling matrix");
    kernels::BilinearTransform t{};
    t.input = input;
    t.height = height;
    t.width = width;
    t.channels = channels;
    t.m00 = matrix[0];
    t.m01 = matrix[1];
    t.m10 = matrix[4];
    t.m11 = matrix[5];
    // v2 samples pixel centres: the matrix applied to (x + 0.5, y + 0.5), less 0.5, folded
    // into the origin once here (float32, the kernel's order) so every path starts from it.
    t.origin_x = matrix[3] + 0.5f * matrix[0] + 0.5f * matrix[1] - 0.5f;
    t.origin_y = matrix[7] + 0.5f * matrix[4] + 0.5f * matrix[5] - 0.5f;
    t.out_height = out_height;
    t.out_width = out_width;
    kernels::transform_bilinear(t, out);
}

void attention_landmarks(const float* mesh_raw, const AttentionHeads& heads,
                         const float matrices[48], const float matrix_scale[48],
                         const AttentionRegion regions[3], const RotatedRect& roi, int input_size,
                         float* out) {
    check_pointer(mesh_raw, "mesh");
    check_pointer(heads.lips, "lips");
    check_pointer(heads.left_eye, "left eye");
    check_pointer(heads.left_iris, "left iris");
    check_pointer(heads.right_eye, "right eye");
    check_pointer(heads.right_iris, "right iris");
    check_pointer(matrices, "attention matrices");
    check_pointer(matrix_scale, "matrix scale");
    check_pointer(regions, "attention regions");
    for (int k = 0; k < 3; ++k) check_attention_region(regions[k]);
    // Zero rows: checks the roi, the input size and `out` without writing anything.
    project_landmarks(mesh_raw, 0, roi, input_size, out);
    const int lips = static_cast<int>(regions[0].subset.size());
    const int left = static_cast<int>(regions[1].subset.size());
    const int right = static_cast<int>(regions[2].subset.size());
    check_finite(mesh_raw, 3 * kMeshLandmarks, "mesh");
    check_finite(heads.lips, 2 * lips, "lips");
    check_finite(heads.left_eye, 2 * left, "left eye");
    check_finite(heads.left_iris, 2 * kIrisLandmarks, "left iris");
    check_finite(heads.right_eye, 2 * right, "right eye");
    check_finite(heads.right_iris, 2 * kIrisLandmarks, "right iris");
    check_finite(matrices, 48, "attention matrices");
    check_finite(matrix_scale, 48, "matrix scale");

    // MediaPipe's refine assembly, in input pixels, in `out` itself.
    std::copy(mesh_raw, mesh_raw + 3 * kMeshLandmarks, out);
    transform_points(heads.lips, lips, matrices, matrix_scale, regions[0].subset.data(), 0, out);
    transform_points(heads.left_eye, left, matrices + 16, matrix_scale + 16,
                     regions[1].subset.data(), 0, out);
    transform_points(heads.right_eye, right, matrices + 32, matrix_scale + 32,
                     regions[2].subset.data(), 0, out);
    // The model's left eye (crop 1, corners 33 and 133) is the subject's right eye.
    transform_points(heads.left_iris, kIrisLandmarks, matrices + 16, matrix_scale + 16, nullptr,
                     kRightIrisFirst, out);
    transform_points(heads.right_iris, kIrisLandmarks, matrices + 32, matrix_scale + 32, nullptr,
                     kLeftIrisFirst, out);
    const float right_z = contour_depth(mesh_raw, kRightEyeContour);
    const float left_z = contour_depth(mesh_raw, kLeftEyeContour);
    for (int i = 0; i < kIrisLandmarks; ++i) {
        out[3 * (kRightIrisFirst + i) + 2] = right_z;
        out[3 * (kLeftIrisFirst + i) + 2] = left_z;
    }
    project_landmarks(out, kRefinedLandmarks, roi, input_size, out);
}

}  // namespace facekit
