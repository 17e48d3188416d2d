// Face-mesh and iris geometry: ROIs from detections and landmarks (level, tilted, upside down,
// non-square images, against a transcription of MediaPipe's normalized-coordinate arithmetic),
// projection of known points (axis-aligned and rotated ROIs, z scaling), the flip of the iris
// crop, consistency with the crop affine, the 478-point assembly and argument validation.
#include <array>
#include <cmath>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <vector>

#include "check.h"
#include "facekit/landmarks.h"
#include "facekit/warp.h"

using facekit::testing::Rng;

namespace {

using namespace facekit;

constexpr double kPi = 3.14159265358979323846;
constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();

bool near(double a, double b, double tol = 1e-9) { return std::fabs(a - b) <= tol; }

#define CHECK_NEAR(a, b, tol) \
    CHECK_MSG(near((a), (b), (tol)), #a " = " << (a) << ", expected " << (b))

// MediaPipe's arithmetic as written (normalized coordinates, then back to pixels), to check the
// pixel-space implementation against: DetectionToNormalizedRect, ComputeRotation with the image
// size, RectTransformationCalculator {scale, square_long}.
RotatedRect mediapipe_reference(double xmin_px, double ymin_px, double w_px, double h_px, Point p0,
                                Point p1, double scale, int image_w, int image_h) {
    const double xmin = xmin_px / image_w, ymin = ymin_px / image_h;
    const double width = w_px / image_w, height = h_px / image_h;
    const double x_center = xmin + width / 2, y_center = ymin + height / 2;
    const double x0 = p0.x / image_w * image_w, y0 = p0.y / image_h * image_h;
    const double x1 = p1.x / image_w * image_w, y1 = p1.y / image_h * image_h;
    double rotation = 0.0 - std::atan2(-(y1 - y0), x1 - x0);
    rotation = rotation - 2 * kPi * std::floor((rotation - (-kPi)) / (2 * kPi));
    const double long_side = std::max(width * image_w, height * image_h);
    const double new_width = long_side / image_w * scale, new_height = long_side / image_h * scale;
    return {x_center * image_w, y_center * image_h, new_width * image_w, new_height * image_h,
            rotation};
}

bool same_rect(const RotatedRect& a, const RotatedRect& b, double tol = 1e-9) {
    return near(a.center_x, b.center_x, tol) && near(a.center_y, b.center_y, tol) &&
           near(a.width, b.width, tol) && near(a.height, b.height, tol) &&
           near(a.rotation, b.rotation, tol);
}

// 468 points parked at (cx, cy) with z = 0, to be shaped by the test.
std::vector<float> parked_mesh(float cx, float cy, int count = kMeshLandmarks) {
    std::vector<float> mesh(3 * count);
    for (int i = 0; i < count; ++i) {
        mesh[3 * i] = cx;
        mesh[3 * i + 1] = cy;
        mesh[3 * i + 2] = 0.f;
    }
    return mesh;
}

void set_point(std::vector<float>& mesh, int index, float x, float y, float z = 0.f) {
    mesh[3 * index] = x;
    mesh[3 * index + 1] = y;
    mesh[3 * index + 2] = z;
}

}  // namespace

TEST(landmarks_normalize_radians) {
    CHECK_NEAR(normalize_radians(0.0), 0.0, 1e-15);
    CHECK_NEAR(normalize_radians(kPi), -kPi, 1e-15);  // [-pi, pi): pi wraps to -pi
    CHECK_NEAR(normalize_radians(-kPi), -kPi, 1e-15);
    CHECK_NEAR(normalize_radians(1.5 * kPi), -0.5 * kPi, 1e-15);
    CHECK_NEAR(normalize_radians(-1.5 * kPi), 0.5 * kPi, 1e-15);
    CHECK_NEAR(normalize_radians(7 * kPi + 0.25), -kPi + 0.25, 1e-12);
}

TEST(landmarks_roi_level_face) {
    // Box 80 x 100 at (100, 200); eyes level: rotation 0, square of 1.5 x 100, box centre.
    const RotatedRect r = face_roi_from_detection({100, 200, 80, 100}, {120, 230}, {160, 230}, 640, 480);
    CHECK(r.center_x == 140.0);
    CHECK(r.center_y == 250.0);
    CHECK(r.width == 150.0);
    CHECK(r.height == 150.0);
    CHECK(r.rotation == 0.0);
    // A wide box squares on its width.
    const RotatedRect w = face_roi_from_detection({10, 20, 120, 60}, {40, 40}, {90, 40}, 640, 480);
    CHECK(w.width == 180.0 && w.height == 180.0);
    CHECK(w.center_x == 70.0 && w.center_y == 50.0);
}

TEST(landmarks_roi_tilted_face) {
    // The subject's left eye lower on screen: the eye line turns clockwise, rotation > 0.
    const RotatedRect cw = face_roi_from_detection({80, 80, 80, 80}, {100, 100}, {140, 140}, 640, 480);
    CHECK_NEAR(cw.rotation, kPi / 4, 1e-12);
    // Higher on screen: counter-clockwise, rotation < 0.
    const RotatedRect ccw = face_roi_from_detection({80, 80, 80, 80}, {100, 100}, {140, 60}, 640, 480);
    CHECK_NEAR(ccw.rotation, -kPi / 4, 1e-12);
    // The ROI's x axis runs along the eye line (right eye -> left eye) in both cases.
    for (const auto& [r, dx, dy] : {std::make_tuple(cw, 40.0, 40.0), std::make_tuple(ccw, 40.0, -40.0)}) {
        const Point a = rect_point(r, 0.5, 0.5), b = rect_point(r, 1.0, 0.5);
        const double len = std::hypot(dx, dy);
        CHECK_NEAR((b.x - a.x) / (r.width / 2), dx / len, 1e-12);
        CHECK_NEAR((b.y - a.y) / (r.width / 2), dy / len, 1e-12);
    }
    // Upside down (left eye on the image's left): rotation -pi, inside [-pi, pi).
    const RotatedRect flipped = face_roi_from_detection({80, 80, 80, 80}, {140, 100}, {100, 100}, 640, 480);
    CHECK_NEAR(flipped.rotation, -kPi, 1e-12);
    // Rotation does not change the size: square of 1.5 x the box's longer side.
    CHECK(cw.width == 120.0 && cw.height == 120.0);
}

TEST(landmarks_roi_non_square_image) {
    // Tall image, box wider in normalized units (0.5 vs 0.15) but taller in pixels (150 vs 100):
    // square_long squares in pixels, so the side is 1.5 x 150.
    const RotatedRect r = face_roi_from_detection({50, 400, 100, 150}, {80, 450}, {120, 450}, 200, 1000);
    CHECK(r.width == 225.0);
    CHECK(r.height == 225.0);
    CHECK(r.center_x == 100.0 && r.center_y == 475.0);
    // Against MediaPipe's normalized arithmetic on random boxes, eyes and aspect ratios.
    Rng rng(7);
    for (int i = 0; i < 500; ++i) {
        const int W = static_cast<int>(rng.uniform(16, 4000)), H = static_cast<int>(rng.uniform(16, 4000));
        const double x = rng.uniform(-50, W), y = rng.uniform(-50, H);
        const double w = rng.uniform(1, W), h = rng.uniform(1, H);
        const Point e0{rng.uniform(0, W), rng.uniform(0, H)}, e1{rng.uniform(0, W), rng.uniform(0, H)};
        const RotatedRect got = face_roi_from_detection({x, y, w, h}, e0, e1, W, H);
        const RotatedRect want = mediapipe_reference(x, y, w, h, e0, e1, 1.5, W, H);
        CHECK_MSG(same_rect(got, want, 1e-6), "case " << i);
        CHECK(got.width == got.height);
        CHECK(got.rotation >= -kPi && got.rotation < kPi);
    }
}

TEST(landmarks_project_axis_aligned) {
    // ROI of the input's own size: input pixels map 1:1, offset to the ROI's corner.
    const RotatedRect one{300, 200, 192, 192, 0};
    std::vector<float> raw(3 * kMeshLandmarks, 96.f), out(3 * kMeshLandmarks);
    const float pts[3][3] = {{0, 0, 0}, {96, 96, 10}, {192, 48, -5}};
    for (int i = 0; i < 3; ++i)
        for (int k = 0; k < 3; ++k) raw[3 * i + k] = pts[i][k];
    project_face_landmarks(raw.data(), one, 192, out.data());
    CHECK(out[0] == 204.f && out[1] == 104.f && out[2] == 0.f);
    CHECK(out[3] == 300.f && out[4] == 200.f && out[5] == 10.f);
    CHECK(out[6] == 396.f && out[7] == 152.f && out[8] == -5.f);
    // Twice the size: offsets and z double.
    const RotatedRect two{300, 200, 384, 384, 0};
    raw[0] = 48;
    raw[1] = 144;
    raw[2] = 6;
    project_face_landmarks(raw.data(), two, 192, out.data());
    CHECK(out[0] == 204.f && out[1] == 296.f && out[2] == 12.f);
    // The last row is reached too.
    raw[3 * 467] = 0;
    raw[3 * 467 + 1] = 192;
    raw[3 * 467 + 2] = -96;
    project_face_landmarks(raw.data(), two, 192, out.data());
    CHECK(out[3 * 467] == 108.f && out[3 * 467 + 1] == 392.f && out[3 * 467 + 2] == -192.f);
}

TEST(landmarks_project_rotated) {
    // Quarter turn clockwise: the crop's +x points down the image, its +y points left.
    const RotatedRect quarter{100, 100, 200, 200, kPi / 2};
    std::vector<float> raw(3 * kMeshLandmarks, 96.f), out(3 * kMeshLandmarks);
    const float pts[4][2] = {{192, 96}, {96, 0}, {0, 0}, {144, 192}};
    const double want[4][2] = {{100, 200}, {200, 100}, {200, 0}, {0, 150}};
    for (int i = 0; i < 4; ++i) {
        raw[3 * i] = pts[i][0];
        raw[3 * i + 1] = pts[i][1];
        raw[3 * i + 2] = 3.f;
    }
    project_face_landmarks(raw.data(), quarter, 192, out.data());
    for (int i = 0; i < 4; ++i) {
        CHECK_NEAR(out[3 * i], want[i][0], 1e-4);
        CHECK_NEAR(out[3 * i + 1], want[i][1], 1e-4);
        CHECK_NEAR(out[3 * i + 2], 3.0 * 200 / 192, 1e-5);  // z like x, rotation aside
    }
    // Any angle, against MediaPipe's LandmarkProjection (rotate normalized, then scale).
    Rng rng(11);
    for (int t = 0; t < 50; ++t) {
        const double side = rng.uniform(20, 900);
        const RotatedRect roi{rng.uniform(0, 1000), rng.uniform(0, 1000), side, side,
                              rng.uniform(-kPi, kPi)};
        for (float& v : raw) v = static_cast<float>(rng.uniform(-20, 212));
        project_face_landmarks(raw.data(), roi, 192, out.data());
        for (int i = 0; i < kMeshLandmarks; ++i) {
            const double x = raw[3 * i] / 192.0 - 0.5, y = raw[3 * i + 1] / 192.0 - 0.5;
            const double c = std::cos(roi.rotation), s = std::sin(roi.rotation);
            const double wx = (c * x - s * y) * roi.width + roi.center_x;
            const double wy = (s * x + c * y) * roi.height + roi.center_y;
            const double wz = raw[3 * i + 2] / 192.0 * roi.width;
            CHECK_NEAR(out[3 * i], wx, 1e-3 + 1e-6 * std::fabs(wx));
            CHECK_NEAR(out[3 * i + 1], wy, 1e-3 + 1e-6 * std::fabs(wy));
            CHECK_NEAR(out[3 * i + 2], wz, 1e-3 + 1e-6 * std::fabs(wz));
        }
    }
}

TEST(landmarks_project_matches_crop_affine) {
    // The crop samples input pixel (j, i) from affine(j, i); the networks report positions in
    // the input's pixel units, pixel (j, i) at (j, i) (MediaPipe's convention, rect_to_affine's).
    // Projection must land on the sampled spot, for the face crop and for both iris crops
    // (plain, and mirrored by a negative width as the Python side does).
    Rng rng(5);
    for (int t = 0; t < 40; ++t) {
        const double side = rng.uniform(10, 600);
        const RotatedRect roi{rng.uniform(0, 900), rng.uniform(0, 900), side, side,
                              rng.uniform(-kPi, kPi)};
        for (int mode = 0; mode < 3; ++mode) {
            const int n = mode == 0 ? 192 : 64;
            const bool flipped = mode == 2;
            RotatedRect crop = roi;
            if (flipped) crop.width = -crop.width;
            const Affine a = rect_to_affine(crop, n, n);
            const int js[3] = {0, n / 3, n - 1}, is[3] = {n - 1, n / 2, 0};
            std::vector<float> raw(3 * kMeshLandmarks, 0.f), out(3 * kMeshLandmarks);
            for (int k = 0; k < 3; ++k) {
                raw[3 * k] = static_cast<float>(js[k]);
                raw[3 * k + 1] = static_cast<float>(is[k]);
            }
            if (mode == 0) project_face_landmarks(raw.data(), roi, n, out.data());
            else project_iris(raw.data(), roi, flipped, n, out.data());
            for (int k = 0; k < 3; ++k) {
                const double sx = a.m[0] * js[k] + a.m[1] * is[k] + a.m[2];
                const double sy = a.m[3] * js[k] + a.m[4] * is[k] + a.m[5];
                CHECK_MSG(near(out[3 * k], sx, 1e-3) && near(out[3 * k + 1], sy, 1e-3),
                          "mode " << mode << " point " << k << ": (" << out[3 * k] << ", "
                                  << out[3 * k + 1] << ") vs (" << sx << ", " << sy << ")");
            }
        }
    }
}

TEST(landmarks_z_scaling) {
    std::vector<float> raw(3 * kMeshLandmarks, 0.f), out(3 * kMeshLandmarks);
    raw[2] = -19.2f;
    for (double side : {96.0, 192.0, 480.0}) {
        for (double rotation : {0.0, 1.0, -2.5}) {
            project_face_landmarks(raw.data(), {50, 60, side, side, rotation}, 192, out.data());
            CHECK_NEAR(out[2], -19.2 / 192 * side, 1e-4);
        }
    }
    // Iris: z / 64 x eye width, untouched by the flip.
    float iris[15] = {}, iris_out[15];
    iris[2] = 8.f;
    project_iris(iris, {10, 10, 92, 92, 0.3}, true, 64, iris_out);
    CHECK_NEAR(iris_out[2], 8.0 / 64 * 92, 1e-5);
}

TEST(landmarks_roi_from_landmarks) {
    std::vector<float> mesh = parked_mesh(200, 200);
    set_point(mesh, 10, 100, 200);  // extremes: x 100..300, y 50..350
    set_point(mesh, 152, 300, 220);
    set_point(mesh, 200, 180, 50);
    set_point(mesh, 400, 210, 350);
    set_point(mesh, kRightEyeOuter, 150, 180);
    set_point(mesh, kLeftEyeOuter, 250, 180);
    RotatedRect r = face_roi_from_landmarks(mesh.data(), kMeshLandmarks, 640, 480);
    CHECK(r.center_x == 200.0 && r.center_y == 200.0);
    CHECK(r.width == 450.0 && r.height == 450.0);
    CHECK(r.rotation == 0.0);
    // Tilt the eye line by 20 degrees clockwise (left eye lower): rotation follows.
    const double t = 20 * kPi / 180;
    set_point(mesh, kLeftEyeOuter, static_cast<float>(150 + 100 * std::cos(t)),
              static_cast<float>(180 + 100 * std::sin(t)));
    r = face_roi_from_landmarks(mesh.data(), kMeshLandmarks, 640, 480);
    CHECK_NEAR(r.rotation, t, 1e-6);
    CHECK(r.width == 450.0);
    // A refined (478) set's extra rows count in the box, as in MediaPipe's refine mode.
    std::vector<float> refined = parked_mesh(200, 200, kRefinedLandmarks);
    std::copy(mesh.begin(), mesh.end(), refined.begin());
    set_point(refined, 470, 200, 390);
    r = face_roi_from_landmarks(refined.data(), kRefinedLandmarks, 640, 480);
    CHECK(r.center_y == 220.0 && r.width == 510.0);
    // Against the normalized reference on a random, non-square case.
    Rng rng(3);
    for (int k = 0; k < 20; ++k) {
        std::vector<float> m(3 * kMeshLandmarks);
        for (float& v : m) v = static_cast<float>(rng.uniform(100, 700));
        double xmin = 1e9, xmax = -1e9, ymin = 1e9, ymax = -1e9;
        for (int i = 0; i < kMeshLandmarks; ++i) {
            xmin = std::min<double>(xmin, m[3 * i]);
            xmax = std::max<double>(xmax, m[3 * i]);
            ymin = std::min<double>(ymin, m[3 * i + 1]);
            ymax = std::max<double>(ymax, m[3 * i + 1]);
        }
        const Point e0{m[3 * 33], m[3 * 33 + 1]}, e1{m[3 * 263], m[3 * 263 + 1]};
        const RotatedRect want = mediapipe_reference(xmin, ymin, xmax - xmin, ymax - ymin, e0, e1, 1.5, 1280, 720);
        CHECK(same_rect(face_roi_from_landmarks(m.data(), kMeshLandmarks, 1280, 720), want, 1e-6));
    }
}

TEST(landmarks_eye_rois) {
    std::vector<float> mesh = parked_mesh(160, 160);
    set_point(mesh, kRightEyeOuter, 100, 100);
    set_point(mesh, kRightEyeInner, 140, 100);
    set_point(mesh, kLeftEyeInner, 180, 100);
    set_point(mesh, kLeftEyeOuter, 220, 110);
    const EyeRois eyes = eye_rois(mesh.data());
    CHECK(!eyes.right.flipped);
    CHECK(eyes.left.flipped);
    CHECK(eyes.right.roi.center_x == 120.0 && eyes.right.roi.center_y == 100.0);
    CHECK_NEAR(eyes.right.roi.width, 92.0, 1e-12);
    CHECK(eyes.right.roi.width == eyes.right.roi.height);
    CHECK(eyes.right.roi.rotation == 0.0);
    CHECK(eyes.left.roi.center_x == 200.0 && eyes.left.roi.center_y == 105.0);
    // Side from the corners' bounding box (max(40, 10)), not their distance.
    CHECK_NEAR(eyes.left.roi.width, 92.0, 1e-12);
    CHECK_NEAR(eyes.left.roi.rotation, std::atan2(10.0, 40.0), 1e-12);
    // Against the normalized reference.
    const RotatedRect want = mediapipe_reference(180, 100, 40, 10, {180, 100}, {220, 110}, 2.3, 640, 360);
    CHECK(same_rect(eyes.left.roi, want, 1e-9));
    // A steep eye squares on |dy|.
    set_point(mesh, kRightEyeInner, 110, 150);
    CHECK_NEAR(eye_rois(mesh.data()).right.roi.width, 50 * 2.3, 1e-9);
}

TEST(landmarks_project_iris_and_flip) {
    const RotatedRect right{120, 100, 92, 92, 0};
    const RotatedRect left{200, 100, 64, 64, 0};
    float raw[15] = {32, 32, 3,  0, 32, 0,  64, 16, 0,  16, 32, -1,  32, 48, 0};
    float out[15];
    project_iris(raw, right, false, 64, out);
    CHECK(out[0] == 120.f && out[1] == 100.f);
    CHECK_NEAR(out[2], 3.0 / 64 * 92, 1e-6);
    CHECK(out[3] == 74.f && out[4] == 100.f);
    CHECK(out[6] == 166.f && out[7] == 77.f);
    // Flipped: x mirrors about the crop's middle before projection; y, z do not.
    project_iris(raw, left, true, 64, out);
    CHECK(out[0] == 200.f && out[1] == 100.f);
    CHECK(out[3] == 232.f && out[4] == 100.f);     // x 0 -> 64: the ROI's right edge
    CHECK(out[6] == 168.f && out[7] == 84.f);      // x 64 -> 0
    CHECK(out[9] == 216.f && out[10] == 100.f);    // x 16 -> 48
    CHECK(out[11] == -1.f);
    CHECK(out[12] == 200.f && out[13] == 116.f);
    // Flipping twice (mirrored input + flip flag on a mirrored ROI) is the identity in y only;
    // a rotated flipped eye: the mirror is about the ROI's own vertical axis.
    const RotatedRect tilted{200, 100, 64, 64, kPi / 2};
    project_iris(raw, tilted, true, 64, out);
    CHECK_NEAR(out[3], 200, 1e-9);  // x 0 -> 64: the ROI's +x end, which points down
    CHECK_NEAR(out[4], 132, 1e-9);
}

TEST(landmarks_refine_with_iris) {
    std::vector<float> mesh = parked_mesh(160, 160);
    for (int i = 0; i < kMeshLandmarks; ++i) mesh[3 * i + 2] = static_cast<float>(i % 7);
    for (int index : kRightEyeContour) mesh[3 * index + 2] = -4.f;
    for (int index : kLeftEyeContour) mesh[3 * index + 2] = 6.f;
    mesh[3 * kRightEyeContour[0] + 2] = 12.f;  // mean of the right contour: (15 * -4 + 12) / 16
    const EyeRoi right{{120, 100, 64, 64, 0}, false}, left{{200, 100, 64, 64, 0}, true};
    float r_raw[15], l_raw[15];
    for (int i = 0; i < 15; ++i) {
        r_raw[i] = static_cast<float>(10 + i);
        l_raw[i] = static_cast<float>(40 - i);
    }
    std::vector<float> out(3 * kRefinedLandmarks, kNaN);
    refine_with_iris(mesh.data(), r_raw, l_raw, right, left, 64, IrisDepth::EyeAverage, out.data());
    bool copied = true;
    for (int i = 0; i < 3 * kMeshLandmarks; ++i) copied = copied && out[i] == mesh[i];
    CHECK(copied);
    float r_proj[15], l_proj[15];
    project_iris(r_raw, right.roi, false, 64, r_proj);
    project_iris(l_raw, left.roi, true, 64, l_proj);
    const int flipped_order[5] = {0, 3, 2, 1, 4};  // a mirrored crop's side points trade places
    for (int i = 0; i < 5; ++i) {
        const float* rr = &out[3 * (kRightIrisFirst + i)];
        const float* lr = &out[3 * (kLeftIrisFirst + i)];
        const int j = flipped_order[i];
        CHECK(rr[0] == r_proj[3 * i] && rr[1] == r_proj[3 * i + 1]);
        CHECK(lr[0] == l_proj[3 * j] && lr[1] == l_proj[3 * j + 1]);
        CHECK(rr[2] == -3.0f);  // (15 * -4 + 12) / 16
        CHECK(lr[2] == 6.0f);
    }
    // The right iris is the one in the 33/133 eye: its centre lands in that eye's ROI.
    CHECK(out[3 * kRightIrisFirst] < 160.f && out[3 * kLeftIrisFirst] > 160.f);
    refine_with_iris(mesh.data(), r_raw, l_raw, right, left, 64, IrisDepth::Network, out.data());
    for (int i = 0; i < 5; ++i) {
        CHECK(out[3 * (kRightIrisFirst + i) + 2] == r_proj[3 * i + 2]);
        CHECK(out[3 * (kLeftIrisFirst + i) + 2] == l_proj[3 * flipped_order[i] + 2]);
    }
    // What the network reports for an iris in the middle of its crop: centre, crop-right edge,
    // top, crop-left edge, bottom. In MediaPipe's 478 order both irises then read centre, image
    // right, top, image left, bottom (469 and 474 right of their centres) for an upright face.
    const float seen[15] = {32, 32, 0, 40, 32, 0, 32, 24, 0, 24, 32, 0, 32, 40, 0};
    refine_with_iris(mesh.data(), seen, seen, right, left, 64, IrisDepth::EyeAverage, out.data());
    for (int first : {kRightIrisFirst, kLeftIrisFirst}) {
        const float* c = &out[3 * first];
        CHECK(c[3] > c[0] && c[9] < c[0]);  // +1 right of the centre, +3 left of it
        CHECK(c[7] < c[1] && c[13] > c[1]);  // +2 above, +4 below
    }
}

TEST(landmarks_invalid_input_throws) {
    using std::invalid_argument;
    const Point e0{10, 10}, e1{20, 10};
    CHECK_THROWS_AS(face_roi_from_detection({0, 0, 10, 10}, e0, e1, 0, 100), invalid_argument);
    CHECK_THROWS_AS(face_roi_from_detection({0, 0, 10, 10}, e0, e1, 100, -1), invalid_argument);
    CHECK_THROWS_AS(face_roi_from_detection({0, 0, 0, 10}, e0, e1, 100, 100), invalid_argument);
    CHECK_THROWS_AS(face_roi_from_detection({0, 0, 10, -3}, e0, e1, 100, 100), invalid_argument);
    CHECK_THROWS_AS(face_roi_from_detection({kNaN, 0, 10, 10}, e0, e1, 100, 100), invalid_argument);
    CHECK_THROWS_AS(face_roi_from_detection({0, 0, 1e300, 10}, e0, e1, 100, 100), invalid_argument);
    CHECK_THROWS_AS(face_roi_from_detection({0, 0, 10, 10}, {kNaN, 1}, e1, 100, 100), invalid_argument);
    CHECK_THROWS_AS(face_roi_from_detection({0, 0, 10, 10}, e0, {1, HUGE_VAL}, 100, 100), invalid_argument);

    std::vector<float> raw(3 * kMeshLandmarks, 1.f), out(3 * kMeshLandmarks, 7.f);
    const RotatedRect roi{50, 50, 100, 100, 0};
    CHECK_THROWS_AS(project_face_landmarks(raw.data(), {50, 50, 0, 100, 0}, 192, out.data()), invalid_argument);
    CHECK_THROWS_AS(project_face_landmarks(raw.data(), {50, 50, -100, 100, 0}, 192, out.data()), invalid_argument);
    CHECK_THROWS_AS(project_face_landmarks(raw.data(), {kNaN, 50, 100, 100, 0}, 192, out.data()), invalid_argument);
    CHECK_THROWS_AS(project_face_landmarks(raw.data(), {50, 50, 100, 100, kNaN}, 192, out.data()), invalid_argument);
    CHECK_THROWS_AS(project_face_landmarks(raw.data(), roi, 0, out.data()), invalid_argument);
    CHECK_THROWS_AS(project_face_landmarks(nullptr, roi, 192, out.data()), invalid_argument);
    CHECK_THROWS_AS(project_face_landmarks(raw.data(), roi, 192, nullptr), invalid_argument);
    raw[3 * 300 + 2] = kNaN;  // a broken network value: refused, nothing written
    CHECK_THROWS_AS(project_face_landmarks(raw.data(), roi, 192, out.data()), invalid_argument);
    bool untouched = true;
    for (float v : out) untouched = untouched && v == 7.f;
    CHECK(untouched);

    std::vector<float> mesh = parked_mesh(100, 100);
    CHECK_THROWS_AS(face_roi_from_landmarks(mesh.data(), kMeshLandmarks, 640, 480), invalid_argument);
    set_point(mesh, 5, 120, 130);
    CHECK_THROWS_AS(face_roi_from_landmarks(mesh.data(), 467, 640, 480), invalid_argument);
    CHECK_THROWS_AS(face_roi_from_landmarks(mesh.data(), kMeshLandmarks, 0, 480), invalid_argument);
    CHECK_THROWS_AS(face_roi_from_landmarks(nullptr, kMeshLandmarks, 640, 480), invalid_argument);
    set_point(mesh, 77, kNaN, 100);
    CHECK_THROWS_AS(face_roi_from_landmarks(mesh.data(), kMeshLandmarks, 640, 480), invalid_argument);

    std::vector<float> eyes = parked_mesh(100, 100);  // all corners coincide
    CHECK_THROWS_AS(eye_rois(eyes.data()), invalid_argument);
    set_point(eyes, kRightEyeInner, 120, 100);
    CHECK_THROWS_AS(eye_rois(eyes.data()), invalid_argument);  // left corners still coincide
    set_point(eyes, kLeftEyeOuter, 140, 100);
    (void)eye_rois(eyes.data());  // now fine
    set_point(eyes, kLeftEyeInner, 100, kNaN);
    CHECK_THROWS_AS(eye_rois(eyes.data()), invalid_argument);
    CHECK_THROWS_AS(eye_rois(nullptr), invalid_argument);

    float iris[15] = {}, iris_out[15];
    CHECK_THROWS_AS(project_iris(iris, {0, 0, 0, 0, 0}, false, 64, iris_out), invalid_argument);
    CHECK_THROWS_AS(project_iris(iris, {0, 0, 10, 10, 0}, false, -64, iris_out), invalid_argument);
    iris[14] = kNaN;
    CHECK_THROWS_AS(project_iris(iris, {0, 0, 10, 10, 0}, false, 64, iris_out), invalid_argument);
    iris[14] = 0;
    std::vector<float> refined(3 * kRefinedLandmarks);
    const EyeRoi good{{10, 10, 10, 10, 0}, false}, bad{{10, 10, -10, 10, 0}, true};
    CHECK_THROWS_AS(refine_with_iris(mesh.data(), iris, iris, good, bad, 64, IrisDepth::EyeAverage,
                                     refined.data()), invalid_argument);
    CHECK_THROWS_AS(refine_with_iris(mesh.data(), iris, iris, good, good, 64,
                                     static_cast<IrisDepth>(9), refined.data()), invalid_argument);
    CHECK_THROWS_AS(refine_with_iris(mesh.data(), nullptr, iris, good, good, 64,
                                     IrisDepth::Network, refined.data()), invalid_argument);
}
