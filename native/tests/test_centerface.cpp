// CenterFace post-processing on synthetic maps: one face's box and keypoints from known numbers,
// the threshold (strictly above), greedy NMS (suppressed at IoU >= 0.3, kept below), clipping to
// the input, the projection through a letterbox rect, non-finite cells skipped, validation.
#include <cmath>
#include <limits>
#include <stdexcept>
#include <vector>

#include "check.h"
#include "facekit/centerface.h"

namespace {

using namespace facekit;

bool near(double a, double b, double tolerance = 1e-4) { return std::fabs(a - b) <= tolerance; }

// The four maps of an 8x8 grid (a 32x32 input), empty until face() is called.
struct Maps {
    static constexpr int kGrid = 8;
    static constexpr std::size_t kPlane = kGrid * kGrid;
    std::vector<float> heatmap = std::vector<float>(kPlane, 0.0f);
    std::vector<float> scale = std::vector<float>(2 * kPlane, 0.0f);
    std::vector<float> offset = std::vector<float>(2 * kPlane, 0.0f);
    std::vector<float> landmarks = std::vector<float>(10 * kPlane, 0.5f);

    // A face at cell (row, col): `score`, height and width in input pixels.
    void face(int row, int col, float score, float height, float width) {
        const std::size_t i = static_cast<std::size_t>(row) * kGrid + col;
        heatmap[i] = score;
        scale[i] = std::log(height / 4.0f);
        scale[kPlane + i] = std::log(width / 4.0f);
    }

    std::size_t decode(CenterFaceParams params, std::vector<FaceBox>& boxes,
                       std::vector<float>& points) {
        params.rows = params.cols = kGrid;
        boxes.assign(params.max_faces, FaceBox{});
        points.assign(params.max_faces * 10, 0.0f);
        return decode_centerface(heatmap.data(), scale.data(), offset.data(), landmarks.data(),
                                 params, boxes.data(), points.data());
    }
};

CenterFaceParams identity(int max_faces = 10) {
    CenterFaceParams p;
    p.max_faces = max_faces;
    p.rect = {16.0, 16.0, 32.0, 32.0, 0.0};  // the input is the image
    return p;
}

}  // namespace

TEST(centerface_decodes_a_known_face) {
    Maps maps;
    maps.face(3, 4, 0.9f, 20.0f, 16.0f);  // centre ((4 + 0.5) * 4, (3 + 0.5) * 4) = (18, 14)
    std::vector<FaceBox> boxes;
    std::vector<float> points;
    REQUIRE(maps.decode(identity(), boxes, points) == 1);
    CHECK(near(boxes[0].score, 0.9) && near(boxes[0].x, 10.0) && near(boxes[0].y, 4.0));
    CHECK(near(boxes[0].width, 16.0) && near(boxes[0].height, 20.0));
    for (int k = 0; k < 5; ++k)  // landmarks 0.5: the box's centre
        CHECK(near(points[2 * k], 18.0) && near(points[2 * k + 1], 14.0));
}

TEST(centerface_threshold_is_strict_and_boxes_are_clipped) {
    Maps maps;
    maps.face(0, 0, 0.2f, 20.0f, 20.0f);  // exactly the threshold: not a face
    maps.face(7, 7, 0.5f, 20.0f, 20.0f);  // corner cell: the box is clipped to the input
    std::vector<FaceBox> boxes;
    std::vector<float> points;
    REQUIRE(maps.decode(identity(), boxes, points) == 1);
    CHECK(near(boxes[0].x, 20.0) && near(boxes[0].y, 20.0));
    CHECK(near(boxes[0].width, 12.0) && near(boxes[0].height, 12.0));
}

TEST(centerface_nms_suppresses_overlaps_best_first) {
    Maps maps;
    maps.face(3, 3, 0.6f, 16.0f, 16.0f);
    maps.face(3, 4, 0.9f, 16.0f, 16.0f);  // IoU with the first: 12 * 16 / (2 * 256 - 192) = 0.6
    maps.face(6, 0, 0.4f, 4.0f, 4.0f);    // apart
    std::vector<FaceBox> boxes;
    std::vector<float> points;
    REQUIRE(maps.decode(identity(), boxes, points) == 2);
    CHECK(near(boxes[0].score, 0.9) && near(boxes[1].score, 0.4));
    REQUIRE(maps.decode(identity(1), boxes, points) == 1);  // max_faces
    CenterFaceParams loose = identity();
    loose.iou_threshold = 0.7f;  // 0.6 < 0.7: both kept
    CHECK(maps.decode(loose, boxes, points) == 3);
}

TEST(centerface_projects_through_a_letterbox) {
    Maps maps;
    maps.face(3, 4, 0.9f, 20.0f, 16.0f);
    CenterFaceParams p = identity();
    p.rect = {50.0, 30.0, 100.0, 100.0, 0.0};  // a 100x60 image letterboxed into the input
    std::vector<FaceBox> boxes;
    std::vector<float> points;
    REQUIRE(maps.decode(p, boxes, points) == 1);
    const double s = 100.0 / 32.0;
    CHECK(near(boxes[0].x, 10.0 * s) && near(boxes[0].y, 4.0 * s - 20.0));
    CHECK(near(boxes[0].width, 16.0 * s) && near(boxes[0].height, 20.0 * s));
    CHECK(near(points[0], 18.0 * s) && near(points[1], 14.0 * s - 20.0));
}

TEST(centerface_skips_non_finite_cells_and_validates) {
    Maps maps;
    maps.face(3, 4, 0.9f, 20.0f, 16.0f);
    maps.landmarks[3 * Maps::kPlane + 3 * Maps::kGrid + 4] = std::numeric_limits<float>::quiet_NaN();
    maps.face(6, 1, std::numeric_limits<float>::quiet_NaN(), 8.0f, 8.0f);
    maps.scale[1 * Maps::kGrid + 1] = 200.0f;  // exp overflows: an infinite box
    maps.heatmap[1 * Maps::kGrid + 1] = 0.8f;
    std::vector<FaceBox> boxes;
    std::vector<float> points;
    CHECK(maps.decode(identity(), boxes, points) == 0);

    CenterFaceParams bad = identity();
    bad.min_score = std::numeric_limits<float>::quiet_NaN();
    CHECK_THROWS_AS(maps.decode(bad, boxes, points), std::invalid_argument);
    bad = identity();
    bad.max_faces = 0;
    CHECK_THROWS_AS(validate(bad), std::invalid_argument);
    bad = identity();
    bad.rect.width = 0.0;
    CHECK_THROWS_AS(maps.decode(bad, boxes, points), std::invalid_argument);
    bad = identity();
    bad.rows = 0;
    CHECK_THROWS_AS(validate(bad), std::invalid_argument);
}
