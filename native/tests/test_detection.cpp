// BlazeFace post-processing: SSD anchors, decoding of synthetic raw outputs with known numbers,
// the score threshold and logit clipping, weighted NMS, projection through letterbox and rotated
// crop rects, and argument validation.
#include <cmath>
#include <cstdio>
#include <limits>
#include <stdexcept>
#include <vector>

#include "check.h"
#include "facekit/detection.h"

namespace {

using namespace facekit;

constexpr double kPi = 3.14159265358979323846;
constexpr float kBackground = -50.0f;  // logit of an empty anchor: score ~2e-22

bool near(double a, double b, double tolerance = 1e-4) { return std::fabs(a - b) <= tolerance; }

float sigmoid(float logit) { return 1.0f / (1.0f + std::exp(-logit)); }

// Raw network outputs for one model, every anchor empty until set().
struct Raw {
    DetectorModel model;
    std::vector<float> regressors, classificators;

    explicit Raw(DetectorModel m)
        : model(m),
          regressors(static_cast<std::size_t>(detector_spec(m).num_anchors) *
                         kDetectorValuesPerAnchor,
                     0.0f),
          classificators(static_cast<std::size_t>(detector_spec(m).num_anchors), kBackground) {}

    // Box offsets/size and keypoint offsets in input pixels, relative to the anchor centre.
    void set(int anchor, float logit, float dx, float dy, float w, float h,
             const float (&kp)[12]) {
        float* r = &regressors[static_cast<std::size_t>(anchor) * kDetectorValuesPerAnchor];
        r[0] = dx;
        r[1] = dy;
        r[2] = w;
        r[3] = h;
        for (int i = 0; i < 12; ++i) r[4 + i] = kp[i];
        classificators[static_cast<std::size_t>(anchor)] = logit;
    }
};

struct Result {
    std::vector<FaceBox> boxes;
    std::vector<float> keypoints;
};

Result run(const Raw& raw, const DetectionParams& params) {
    Result out;
    out.boxes.resize(static_cast<std::size_t>(params.max_faces));
    out.keypoints.resize(static_cast<std::size_t>(params.max_faces) * 12, -1.0f);
    const std::size_t n = decode_detections(raw.regressors.data(), raw.regressors.size(),
                                            raw.classificators.data(), raw.classificators.size(),
                                            params, out.boxes.data(), out.keypoints.data());
    out.boxes.resize(n);
    out.keypoints.resize(n * 12);
    return out;
}

DetectionParams params_for(DetectorModel model, RotatedRect rect, int max_faces = 8,
                           float min_score = 0.5f) {
    DetectionParams p;
    p.model = model;
    p.min_score = min_score;
    p.max_faces = max_faces;
    p.rect = rect;
    return p;
}

// Short-range anchor index of cell (x, y) of the 8x8 stride-16 map, slot 0..5 within the cell.
int short_coarse(int x, int y, int slot) { return 512 + (y * 8 + x) * 6 + slot; }

constexpr RotatedRect kIdentity{0.5, 0.5, 1.0, 1.0, 0.0};  // image = normalized input frame

}  // namespace

TEST(detection_anchor_counts_and_centres) {
    const auto& s = detector_anchors(DetectorModel::ShortRange);
    const auto& f = detector_anchors(DetectorModel::FullRange);
    REQUIRE(s.size() == 896);
    REQUIRE(f.size() == 2304);
    CHECK(detector_spec(DetectorModel::ShortRange).num_anchors == 896);
    CHECK(detector_spec(DetectorModel::FullRange).num_anchors == 2304);
    CHECK(detector_spec(DetectorModel::ShortRange).input_size == 128);
    CHECK(detector_spec(DetectorModel::FullRange).input_size == 192);
    CHECK(detector_spec(DetectorModel::ShortRange).default_min_score == 0.5);
    CHECK(detector_spec(DetectorModel::FullRange).default_min_score == 0.6);

    // Short range: 16x16 cells x 2 anchors (stride 8), then 8x8 cells x 6 (three stride-16 layers).
    CHECK(s[0].x_center == 0.03125f && s[0].y_center == 0.03125f);
    CHECK(s[1].x_center == 0.03125f && s[1].y_center == 0.03125f);
    CHECK(s[2].x_center == 0.09375f && s[2].y_center == 0.03125f);
    CHECK(s[32].x_center == 0.03125f && s[32].y_center == 0.09375f);
    CHECK(s[511].x_center == 0.96875f && s[511].y_center == 0.96875f);
    CHECK(s[512].x_center == 0.0625f && s[512].y_center == 0.0625f);
    CHECK(s[517].x_center == 0.0625f && s[517].y_center == 0.0625f);
    CHECK(s[518].x_center == 0.1875f && s[518].y_center == 0.0625f);
    CHECK(s[895].x_center == 0.9375f && s[895].y_center == 0.9375f);

    // Full range: 48x48 cells, one anchor each (stride 4).
    CHECK(f[0].x_center == 0.5f / 48 && f[0].y_center == 0.5f / 48);
    CHECK(f[1].x_center == 1.5f / 48 && f[1].y_center == 0.5f / 48);
    CHECK(f[48].x_center == 0.5f / 48 && f[48].y_center == 1.5f / 48);
    CHECK(f[2303].x_center == 47.5f / 48 && f[2303].y_center == 47.5f / 48);

    for (const auto* anchors : {&s, &f}) {
        for (const Anchor& a : *anchors) {
            CHECK(a.x_center > 0.0f && a.x_center < 1.0f && a.y_center > 0.0f && a.y_center < 1.0f);
            CHECK(a.width == 1.0f && a.height == 1.0f);  // fixed_anchor_size
        }
    }
    // Cached: the same vector every time.
    CHECK(&detector_anchors(DetectorModel::ShortRange) == &s);
}

TEST(detection_anchor_generator_sizes_and_validation) {
    // Without fixed_anchor_size the generator yields SSD scales: the first stride-8 anchor has
    // min_scale, the interpolated one sqrt(scale0 * scale1).
    SsdAnchorOptions o = anchor_options(DetectorModel::ShortRange);
    o.fixed_anchor_size = false;
    const std::vector<Anchor> a = generate_anchors(o);
    REQUIRE(a.size() == 896);
    CHECK(a[0].width == 0.1484375f && a[0].height == 0.1484375f);
    const float scale1 = 0.1484375f + (0.75f - 0.1484375f) * 1.0f * 1 / 3.0f;
    CHECK(near(a[1].width, std::sqrt(0.1484375f * scale1), 1e-7));
    CHECK(near(a[895].width, std::sqrt(0.75f * 1.0f), 1e-7));  // last layer interpolates with 1.0

    SsdAnchorOptions bad = anchor_options(DetectorModel::FullRange);
    bad.strides = {4, 8};  // two strides for one layer
    CHECK_THROWS_AS(generate_anchors(bad), std::invalid_argument);
    bad = anchor_options(DetectorModel::FullRange);
    bad.strides = {0};
    CHECK_THROWS_AS(generate_anchors(bad), std::invalid_argument);
    bad = anchor_options(DetectorModel::FullRange);
    bad.aspect_ratios.clear();
    CHECK_THROWS_AS(generate_anchors(bad), std::invalid_argument);
    bad = anchor_options(DetectorModel::FullRange);
    bad.input_width = 0;
    CHECK_THROWS_AS(generate_anchors(bad), std::invalid_argument);
}

TEST(detection_decode_short_range_exact) {
    // Cell (4, 3) of the stride-16 map: anchor centre (0.5625, 0.4375). Offsets in input pixels
    // (128 per unit), all multiples of 1/64 so every decoded value is exact.
    Raw raw(DetectorModel::ShortRange);
    float kp[12];
    for (int k = 0; k < 6; ++k) {
        kp[2 * k] = 4.0f * k - 10.0f;
        kp[2 * k + 1] = 2.0f * k + 6.0f;
    }
    const int anchor = short_coarse(4, 3, 2);
    raw.set(anchor, 2.0f, 16.0f, -8.0f, 32.0f, 64.0f, kp);
    // Letterbox of a 256x256 image: pixel = normalized * 256.
    const Result r = run(raw, params_for(DetectorModel::ShortRange, {128, 128, 256, 256, 0}));
    REQUIRE(r.boxes.size() == 1);
    const FaceBox& b = r.boxes[0];
    CHECK_MSG(b.score == sigmoid(2.0f), "score " << b.score);
    // Centre (0.6875, 0.375), size (0.25, 0.5) -> box (144, 32, 64, 128) pixels.
    CHECK_MSG(near(b.x, 144) && near(b.y, 32) && near(b.width, 64) && near(b.height, 128),
              "box " << b.x << " " << b.y << " " << b.width << " " << b.height);
    for (int k = 0; k < 6; ++k) {
        const double ex = ((4.0 * k - 10.0) / 128 + 0.5625) * 256;
        const double ey = ((2.0 * k + 6.0) / 128 + 0.4375) * 256;
        CHECK_MSG(near(r.keypoints[2 * k], ex) && near(r.keypoints[2 * k + 1], ey),
                  "keypoint " << k << ": " << r.keypoints[2 * k] << ", " << r.keypoints[2 * k + 1]
                              << " expected " << ex << ", " << ey);
    }
}

TEST(detection_decode_full_range_exact) {
    // Cell (20, 10) of the 48x48 map: centre (20.5/48, 10.5/48); with the 192-pixel letterbox
    // of a 192x192 image, pixel = raw offset + (82, 42).
    Raw raw(DetectorModel::FullRange);
    float kp[12];
    for (int k = 0; k < 6; ++k) {
        kp[2 * k] = -5.0f * k;
        kp[2 * k + 1] = 3.0f * k - 7.0f;
    }
    raw.set(10 * 48 + 20, 3.0f, 6.0f, -4.0f, 40.0f, 48.0f, kp);
    const Result r = run(raw, params_for(DetectorModel::FullRange, {96, 96, 192, 192, 0}, 4, 0.6f));
    REQUIRE(r.boxes.size() == 1);
    const FaceBox& b = r.boxes[0];
    CHECK(b.score == sigmoid(3.0f));
    CHECK_MSG(near(b.x, 88 - 20) && near(b.y, 38 - 24) && near(b.width, 40) && near(b.height, 48),
              "box " << b.x << " " << b.y << " " << b.width << " " << b.height);
    for (int k = 0; k < 6; ++k) {
        CHECK(near(r.keypoints[2 * k], -5.0 * k + 82));
        CHECK(near(r.keypoints[2 * k + 1], 3.0 * k - 7 + 42));
    }
}

TEST(detection_score_threshold_and_clipping) {
    const float zero[12] = {};
    const auto at = [](int x, int y) { return short_coarse(x, y, 0); };
    {
        // sigmoid(0) = 0.5 exactly: kept at min_score 0.5 (>=); a hair below is not.
        Raw raw(DetectorModel::ShortRange);
        raw.set(at(1, 1), 0.0f, 0, 0, 16, 16, zero);
        raw.set(at(6, 6), -0.01f, 0, 0, 16, 16, zero);
        const Result r = run(raw, params_for(DetectorModel::ShortRange, kIdentity));
        REQUIRE(r.boxes.size() == 1);
        CHECK(r.boxes[0].score == 0.5f);
        CHECK(near(r.boxes[0].x, 0.1875 - 0.0625, 1e-6));
        // A higher threshold drops it too.
        CHECK(run(raw, params_for(DetectorModel::ShortRange, kIdentity, 8, 0.51f)).boxes.empty());
    }
    {
        // Huge and infinite logits clip to 100: score exactly 1, never NaN. NaN logits and -inf
        // drop out. Later anchors sort after earlier ones of equal score (stable order).
        Raw raw(DetectorModel::ShortRange);
        raw.set(at(0, 0), 1e30f, 0, 0, 16, 16, zero);
        raw.set(at(3, 0), std::numeric_limits<float>::infinity(), 0, 0, 16, 16, zero);
        raw.set(at(6, 0), std::numeric_limits<float>::quiet_NaN(), 0, 0, 16, 16, zero);
        raw.set(at(0, 3), -std::numeric_limits<float>::infinity(), 0, 0, 16, 16, zero);
        raw.set(at(3, 3), -1e30f, 0, 0, 16, 16, zero);
        const Result r = run(raw, params_for(DetectorModel::ShortRange, kIdentity));
        REQUIRE(r.boxes.size() == 2);
        CHECK(r.boxes[0].score == 1.0f && r.boxes[1].score == 1.0f);
        CHECK(near(r.boxes[0].x, 0.0625 - 0.0625, 1e-6));  // cell (0, 0) first
        CHECK(near(r.boxes[1].x, 0.4375 - 0.0625, 1e-6));
        CHECK(sigmoid(-kDetectorScoreClip) < 1e-30f);
    }
    {
        // Anchors with a non-finite regressor value, or a negative width or height, are ignored.
        Raw raw(DetectorModel::ShortRange);
        float bad_kp[12] = {};
        bad_kp[7] = std::numeric_limits<float>::quiet_NaN();
        raw.set(at(0, 0), 4.0f, 0, 0, 16, 16, bad_kp);
        raw.set(at(2, 2), 4.0f, std::numeric_limits<float>::infinity(), 0, 16, 16, zero);
        raw.set(at(4, 4), 4.0f, 0, 0, -16, 16, zero);
        raw.set(at(6, 6), 4.0f, 0, 0, 16, -1, zero);
        raw.set(at(7, 7), 1.0f, 0, 0, 16, 16, zero);  // the only valid one
        const Result r = run(raw, params_for(DetectorModel::ShortRange, kIdentity));
        REQUIRE(r.boxes.size() == 1);
        CHECK(r.boxes[0].score == sigmoid(1.0f));
        CHECK(near(r.boxes[0].x, 0.9375 - 0.0625, 1e-6));
    }
    {
        // min_score 0: logits clipped to -100 give a float score of exactly 0, never a face (a
        // cluster of them would average to NaN); tiny positive scores still count.
        Raw raw(DetectorModel::ShortRange);
        for (float& logit : raw.classificators) logit = -1e30f;
        CHECK(run(raw, params_for(DetectorModel::ShortRange, kIdentity, 8, 0.0f)).boxes.empty());
        for (float& logit : raw.classificators) logit = kBackground;
        const Result r = run(raw, params_for(DetectorModel::ShortRange, kIdentity, 1000, 0.0f));
        CHECK(!r.boxes.empty());
        bool finite = true;
        for (const FaceBox& b : r.boxes) {
            finite = finite && std::isfinite(b.x) && std::isfinite(b.y) && b.score > 0.0f;
        }
        for (float v : r.keypoints) finite = finite && std::isfinite(v);
        CHECK(finite);
    }
    {
        // Nothing above threshold: no faces, nothing written.
        Raw raw(DetectorModel::FullRange);
        CHECK(run(raw, params_for(DetectorModel::FullRange, kIdentity, 3, 0.6f)).boxes.empty());
    }
}

namespace {

// Normalized box of a decoded short-range detection, computed as the decoder does.
struct NBox {
    float xmin, ymin, xmax, ymax;
};
NBox nbox(int anchor, float dx, float dy, float w, float h) {
    const Anchor& a = detector_anchors(DetectorModel::ShortRange)[static_cast<std::size_t>(anchor)];
    const float xc = dx / 128.0f + a.x_center, yc = dy / 128.0f + a.y_center;
    const float ww = w / 128.0f, hh = h / 128.0f;
    return {xc - ww / 2.f, yc - hh / 2.f, xc + ww / 2.f, yc + hh / 2.f};
}

}  // namespace

TEST(detection_weighted_nms) {
    // A and B share a cell and overlap (IoU ~0.62): they merge, score-weighted. C lies far away.
    // D overlaps A a little (IoU ~0.14 < 0.3) and survives on its own.
    Raw raw(DetectorModel::ShortRange);
    float kpa[12], kpb[12], kpc[12], kpd[12];
    for (int k = 0; k < 12; ++k) {
        kpa[k] = static_cast<float>(k) - 6.0f;
        kpb[k] = 2.0f * k + 3.0f;
        kpc[k] = -static_cast<float>(k);
        kpd[k] = 0.5f * k;
    }
    const int a = short_coarse(4, 3, 0), b = short_coarse(4, 3, 1);
    const int c = short_coarse(1, 6, 0), d = short_coarse(4, 3, 2);
    raw.set(a, 2.0f, 0, 0, 32, 32, kpa);
    raw.set(b, 1.0f, 4, 4, 32, 32, kpb);
    raw.set(c, 0.5f, 0, 0, 32, 32, kpc);
    raw.set(d, 0.25f, 24, 0, 32, 32, kpd);
    const float sa = sigmoid(2.0f), sb = sigmoid(1.0f), sc = sigmoid(0.5f), sd = sigmoid(0.25f);

    const Result r = run(raw, params_for(DetectorModel::ShortRange, kIdentity));
    REQUIRE(r.boxes.size() == 3);
    CHECK(r.boxes[0].score == sa && r.boxes[1].score == sc && r.boxes[2].score == sd);

    const NBox ba = nbox(a, 0, 0, 32, 32), bb = nbox(b, 4, 4, 32, 32);
    const double wa = sa, wb = sb, total = wa + wb;
    const double xmin = (ba.xmin * wa + bb.xmin * wb) / total;
    const double ymin = (ba.ymin * wa + bb.ymin * wb) / total;
    const double xmax = (ba.xmax * wa + bb.xmax * wb) / total;
    const double ymax = (ba.ymax * wa + bb.ymax * wb) / total;
    const FaceBox& m = r.boxes[0];
    CHECK_MSG(near(m.x, xmin, 1e-6) && near(m.y, ymin, 1e-6) && near(m.width, xmax - xmin, 1e-6) &&
                  near(m.height, ymax - ymin, 1e-6),
              "merged box " << m.x << " " << m.y << " " << m.width << " " << m.height);
    const Anchor& anchor_ab =
        detector_anchors(DetectorModel::ShortRange)[static_cast<std::size_t>(a)];
    for (int k = 0; k < 12; ++k) {
        const double centre = k % 2 == 0 ? anchor_ab.x_center : anchor_ab.y_center;
        const double expected =
            ((kpa[k] / 128.0 + centre) * sa + (kpb[k] / 128.0 + centre) * sb) / total;
        CHECK_MSG(near(r.keypoints[k], expected, 1e-6),
                  "merged keypoint value " << k << ": " << r.keypoints[k] << " vs " << expected);
    }
    // C and D keep their own boxes and keypoints.
    const NBox bc = nbox(c, 0, 0, 32, 32), bd = nbox(d, 24, 0, 32, 32);
    CHECK(near(r.boxes[1].x, bc.xmin, 1e-6) && near(r.boxes[1].y, bc.ymin, 1e-6));
    CHECK(near(r.boxes[1].width, 0.25, 1e-6) && near(r.boxes[1].height, 0.25, 1e-6));
    CHECK(near(r.boxes[2].x, bd.xmin, 1e-6) && near(r.boxes[2].y, bd.ymin, 1e-6));
    CHECK(near(r.keypoints[12], kpc[0] / 128.0 + 0.1875, 1e-6));
    CHECK(near(r.keypoints[13], kpc[1] / 128.0 + 0.8125, 1e-6));
    CHECK(near(r.keypoints[24 + 4], kpd[4] / 128.0 + anchor_ab.x_center, 1e-6));

    // max_faces stops the suppression early: best first.
    const Result two = run(raw, params_for(DetectorModel::ShortRange, kIdentity, 2));
    REQUIRE(two.boxes.size() == 2);
    CHECK(two.boxes[0].score == sa && two.boxes[1].score == sc);
    CHECK(near(two.boxes[0].x, m.x, 0) && near(two.keypoints[5], r.keypoints[5], 0));
    const Result one = run(raw, params_for(DetectorModel::ShortRange, kIdentity, 1));
    REQUIRE(one.boxes.size() == 1);
    CHECK(one.boxes[0].score == sa);

    // A threshold above the A-B overlap keeps all four apart; A's box is then its own.
    DetectionParams strict = params_for(DetectorModel::ShortRange, kIdentity);
    strict.iou_threshold = 0.7f;
    const Result apart = run(raw, strict);
    REQUIRE(apart.boxes.size() == 4);
    CHECK(apart.boxes[1].score == sb);
    CHECK(near(apart.boxes[0].x, ba.xmin, 1e-6) && near(apart.boxes[0].width, 0.25, 1e-6));
    CHECK(near(apart.keypoints[0], kpa[0] / 128.0 + anchor_ab.x_center, 1e-6));
    // Threshold 0 merges anything that overlaps at all: A, B and D become one; C stays.
    strict.iou_threshold = 0.0f;
    CHECK(run(raw, strict).boxes.size() == 2);
}

TEST(detection_projection_through_rects) {
    // Cell (3, 3): centre (0.4375, 0.4375); +8 px puts the box centre at (0.5, 0.5), 64 px wide
    // makes it [0.25, 0.75]^2. Keypoint 0 at (0.75, 0.5), keypoint 1 at (0.5, 0.25).
    Raw raw(DetectorModel::ShortRange);
    float kp[12] = {40, 8, 8, -24, 8, 8, 8, 8, 8, 8, 8, 8};
    raw.set(short_coarse(3, 3, 0), 3.0f, 8, 8, 64, 64, kp);
    {
        // Letterbox of a 640x480 image: a 640-pixel square centred on the image.
        const Result r = run(raw, params_for(DetectorModel::ShortRange, {320, 240, 640, 640, 0}));
        REQUIRE(r.boxes.size() == 1);
        const FaceBox& b = r.boxes[0];
        CHECK_MSG(near(b.x, 160) && near(b.y, 80) && near(b.width, 320) && near(b.height, 320),
                  "box " << b.x << " " << b.y << " " << b.width << " " << b.height);
        CHECK(near(r.keypoints[0], 480) && near(r.keypoints[1], 240));
        CHECK(near(r.keypoints[2], 320) && near(r.keypoints[3], 80));
        CHECK(near(r.keypoints[4], 320) && near(r.keypoints[5], 240));
    }
    {
        // 80x40 rect at (100, 50) turned a quarter clockwise: rect x runs down the image, rect y
        // runs right to left. The box spans u in [-20, 20], v in [-10, 10] about the centre.
        const Result r =
            run(raw, params_for(DetectorModel::ShortRange, {100, 50, 80, 40, kPi / 2}));
        REQUIRE(r.boxes.size() == 1);
        const FaceBox& b = r.boxes[0];
        CHECK_MSG(near(b.x, 90) && near(b.y, 30) && near(b.width, 20) && near(b.height, 40),
                  "box " << b.x << " " << b.y << " " << b.width << " " << b.height);
        CHECK_MSG(near(r.keypoints[0], 100) && near(r.keypoints[1], 70),
                  "kp0 " << r.keypoints[0] << ", " << r.keypoints[1]);
        CHECK_MSG(near(r.keypoints[2], 110) && near(r.keypoints[3], 50),
                  "kp1 " << r.keypoints[2] << ", " << r.keypoints[3]);
    }
    {
        // 45 degrees: the axis-aligned box bounds the turned square's corners (half side 25).
        const Result r = run(raw, params_for(DetectorModel::ShortRange, {0, 0, 100, 100, kPi / 4}));
        REQUIRE(r.boxes.size() == 1);
        const double h = 25 * std::sqrt(2.0);
        const FaceBox& b = r.boxes[0];
        CHECK_MSG(near(b.x, -h) && near(b.y, -h) && near(b.width, 2 * h) && near(b.height, 2 * h),
                  "box " << b.x << " " << b.y << " " << b.width << " " << b.height);
        // Keypoint 0 at rect-local (25, 0) -> (25 cos 45, 25 sin 45).
        CHECK(near(r.keypoints[0], h / 2) && near(r.keypoints[1], h / 2));
    }
}

TEST(detection_invalid_arguments) {
    CHECK(detector_model("short_range") == DetectorModel::ShortRange);
    CHECK(detector_model("full_range") == DetectorModel::FullRange);
    CHECK_THROWS_AS(detector_model("medium_range"), std::invalid_argument);
    CHECK_THROWS_AS(detector_model(""), std::invalid_argument);
    CHECK_THROWS_AS(detector_model("Short_Range"), std::invalid_argument);

    Raw raw(DetectorModel::ShortRange);
    std::vector<FaceBox> boxes(4);
    std::vector<float> kps(48);
    const DetectionParams good = params_for(DetectorModel::ShortRange, kIdentity, 4);
    const auto decode = [&](const DetectionParams& p, std::size_t nreg, std::size_t ncls) {
        return decode_detections(raw.regressors.data(), nreg, raw.classificators.data(), ncls, p,
                                 boxes.data(), kps.data());
    };
    CHECK(decode(good, 896 * 16, 896) == 0);
    CHECK_THROWS_AS(decode(good, 895 * 16, 896), std::invalid_argument);
    CHECK_THROWS_AS(decode(good, 896 * 16, 895), std::invalid_argument);
    CHECK_THROWS_AS(decode(good, 896 * 16 + 1, 896), std::invalid_argument);
    DetectionParams full = good;
    full.model = DetectorModel::FullRange;  // short-range-sized outputs for the full-range model
    CHECK_THROWS_AS(decode(full, 896 * 16, 896), std::invalid_argument);

    DetectionParams p = good;
    p.max_faces = 0;
    CHECK_THROWS_AS(decode(p, 896 * 16, 896), std::invalid_argument);
    p.max_faces = -3;
    CHECK_THROWS_AS(decode(p, 896 * 16, 896), std::invalid_argument);
    p = good;
    p.min_score = std::numeric_limits<float>::quiet_NaN();
    CHECK_THROWS_AS(decode(p, 896 * 16, 896), std::invalid_argument);
    p.min_score = 1.5f;
    CHECK_THROWS_AS(decode(p, 896 * 16, 896), std::invalid_argument);
    p.min_score = -0.1f;
    CHECK_THROWS_AS(decode(p, 896 * 16, 896), std::invalid_argument);
    p = good;
    p.iou_threshold = std::numeric_limits<float>::quiet_NaN();
    CHECK_THROWS_AS(decode(p, 896 * 16, 896), std::invalid_argument);
    p.iou_threshold = 1.5f;
    CHECK_THROWS_AS(decode(p, 896 * 16, 896), std::invalid_argument);
    p = good;
    p.rect.width = 0;
    CHECK_THROWS_AS(decode(p, 896 * 16, 896), std::invalid_argument);
    p = good;
    p.rect.center_x = std::numeric_limits<double>::infinity();
    CHECK_THROWS_AS(decode(p, 896 * 16, 896), std::invalid_argument);
    p = good;
    p.rect.rotation = std::numeric_limits<double>::quiet_NaN();
    CHECK_THROWS_AS(decode(p, 896 * 16, 896), std::invalid_argument);
    CHECK_THROWS_AS(validate(p), std::invalid_argument);
    CHECK_THROWS_AS(decode_detections(nullptr, 896 * 16, raw.classificators.data(), 896, good,
                                      boxes.data(), kps.data()),
                    std::invalid_argument);
    CHECK_THROWS_AS(decode_detections(raw.regressors.data(), 896 * 16, raw.classificators.data(),
                                      896, good, boxes.data(), nullptr),
                    std::invalid_argument);
}
