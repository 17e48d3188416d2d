// The attention mesh's custom operators: the bilinear sampler on every SIMD path against the
// scalar reference bit for bit (odd sizes, channel counts off the vector width, rotation,
// positions on and past the edges), its semantics on hand-computed cases, the region matrix of
// a known layout, the 478-point assembly and argument validation.
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "check.h"
#include "facekit/attention.h"
#include "facekit/dispatch.h"
#include "facekit/landmarks.h"

using facekit::testing::Rng;

namespace {

using namespace facekit;
using facekit::testing::g_compared;
using facekit::testing::report_compared;

constexpr double kPi = 3.14159265358979323846;
constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();

struct IsaRestorer {
    Isa saved = active_isa();
    ~IsaRestorer() { force_isa(saved); }
};

struct Tensor {
    int height, width, channels;
    std::vector<float> data;
};

Tensor random_tensor(int height, int width, int channels, Rng& rng) {
    Tensor t{height, width, channels, std::vector<float>(static_cast<std::size_t>(height) * width * channels)};
    for (float& v : t.data) v = static_cast<float>(rng.uniform(-3.0, 3.0));
    return t;
}

// Row-major 4x4 with the given first two rows.
std::vector<float> matrix(float m00, float m01, float m03, float m10, float m11, float m13) {
    return {m00, m01, 0, m03, m10, m11, 0, m13, 0, 0, 1, 0, 0, 0, 0, 1};
}

// A crop turned by `angle` and scaled by `scale` around (cx, cy) of the map.
std::vector<float> turned(double angle, double scale, double cx, double cy, int out_side) {
    const double c = std::cos(angle) * scale, s = std::sin(angle) * scale;
    const double h = out_side / 2.0;
    return matrix(static_cast<float>(c), static_cast<float>(-s),
                  static_cast<float>(cx - (c * h - s * h)), static_cast<float>(s),
                  static_cast<float>(c), static_cast<float>(cy - (s * h + c * h)));
}

std::vector<float> sample(const Tensor& t, const std::vector<float>& m, int out_h, int out_w) {
    std::vector<float> out(static_cast<std::size_t>(out_h) * out_w * t.channels, kNaN);
    transform_bilinear(t.data.data(), t.height, t.width, t.channels, m.data(), out_h, out_w,
                       out.data());
    return out;
}

// Every available path through the public transform_bilinear against the scalar path's bits.
bool paths_match_scalar(const Tensor& t, const std::vector<float>& m, int out_h, int out_w) {
    IsaRestorer restore;
    force_isa(Isa::Scalar);
    const std::vector<float> ref = sample(t, m, out_h, out_w);
    for (Isa isa : available_isas()) {
        force_isa(isa);
        // SSE4.1 has no variant of this kernel: that path runs (and counts) the scalar one.
        const Isa counted = isa == Isa::Sse41 ? Isa::Scalar : isa;
        const std::uint64_t calls = kernel_calls(counted);
        const std::vector<float> got = sample(t, m, out_h, out_w);
        CHECK_MSG(kernel_calls(counted) == calls + 1, isa_name(isa) << " kernel did not run");
        if (std::memcmp(ref.data(), got.data(), ref.size() * sizeof(float)) == 0) continue;
        std::size_t first = 0;
        while (std::memcmp(&ref[first], &got[first], sizeof(float)) == 0) ++first;
        CHECK_MSG(false, isa_name(isa) << " differs from scalar on " << t.height << "x" << t.width
                                       << "x" << t.channels << " -> " << out_h << "x" << out_w
                                       << " at float " << first);
        return false;
    }
    ++g_compared;
    return true;
}

float at(const Tensor& t, int y, int x, int c) {
    return t.data[(static_cast<std::size_t>(y) * t.width + x) * t.channels + c];
}

// 468 points at (100 + i % 7, 100 + i % 5), z = i / 10: a mesh with some extent.
std::vector<float> spread_mesh() {
    std::vector<float> mesh(3 * kMeshLandmarks);
    for (int i = 0; i < kMeshLandmarks; ++i) {
        mesh[3 * i] = 100.f + static_cast<float>(i % 7);
        mesh[3 * i + 1] = 100.f + static_cast<float>(i % 5);
        mesh[3 * i + 2] = static_cast<float>(i) / 10.f;
    }
    return mesh;
}

AttentionRegion small_region(double target = 0.0) {
    return AttentionRegion{{2, 3, 4}, 0, 1, target, 1.5, 1.5, 16, 16};
}

// The matrix's first two rows applied to (x, y, 0, 1).
Point apply(const float m[16], double x, double y) {
    return {m[0] * x + m[1] * y + m[3], m[4] * x + m[5] * y + m[7]};
}

}  // namespace

TEST(attention_sampler_simd_matches_scalar_on_odd_sizes) {
    Rng rng(17);
    const int shapes[][3] = {{7, 5, 13}, {48, 48, 32}, {48, 48, 33}, {1, 1, 1}, {2, 3, 7},
                             {5, 9, 8},  {11, 6, 4},   {3, 3, 31},  {16, 20, 64}, {9, 4, 1}};
    const int outputs[][2] = {{16, 16}, {1, 1}, {7, 3}, {5, 11}};
    for (const auto& s : shapes) {
        const Tensor t = random_tensor(s[0], s[1], s[2], rng);
        for (const auto& o : outputs) {
            for (int trial = 0; trial < 6; ++trial) {
                // Turned, scaled crops around and across the map: some pixels inside, some
                // past every edge.
                const double scale = rng.uniform(0.05, 1.5) * std::max(s[0], s[1]) / o[0];
                const std::vector<float> m =
                    turned(rng.uniform(-kPi, kPi), scale, rng.uniform(-0.3, 1.3) * s[1],
                           rng.uniform(-0.3, 1.3) * s[0], o[0]);
                if (!paths_match_scalar(t, m, o[0], o[1])) return;
            }
            // Integer positions, the last row and column exactly (their +1 neighbours read 0).
            if (!paths_match_scalar(t, matrix(1, 0, 0, 0, 1, 0), o[0], o[1])) return;
            if (!paths_match_scalar(t, matrix(1, 0, static_cast<float>(s[1] - o[1]), 0, 1,
                                              static_cast<float>(s[0] - o[0])),
                                    o[0], o[1]))
                return;
        }
    }
    report_compared("samplings");
}

TEST(attention_sampler_reads_pixels_and_blends_neighbours) {
    Rng rng(3);
    const Tensor t = random_tensor(7, 5, 13, rng);
    // The identity samples pixel centres: the pixels themselves.
    std::vector<float> out = sample(t, matrix(1, 0, 0, 0, 1, 0), 7, 5);
    bool same = std::memcmp(out.data(), t.data.data(), t.data.size() * sizeof(float)) == 0;
    CHECK(same);
    // Half a pixel right: the two neighbours' mean; the last column (x = 4.5) is past the edge.
    out = sample(t, matrix(1, 0, 0.5f, 0, 1, 0), 7, 5);
    bool mean = true, zero = true;
    for (int y = 0; y < 7; ++y)
        for (int c = 0; c < 13; ++c) {
            for (int x = 0; x < 4; ++x) {
                const float want = 0.5f * at(t, y, x, c) + 0.5f * at(t, y, x + 1, c);
                mean = mean && out[(y * 5 + x) * 13 + c] == want;
            }
            zero = zero && out[(y * 5 + 4) * 13 + c] == 0.0f;
        }
    CHECK(mean);
    CHECK(zero);
    // Turned by 90 degrees: (x, y) samples (tx - 1 - y, x + ty) (v2's centre correction).
    out = sample(t, matrix(0, -1, 4, 1, 0, 0), 5, 5);
    bool turned_ok = true;
    for (int y = 0; y < 5; ++y)
        for (int x = 0; x < 5; ++x)
            for (int c = 0; c < 13; ++c) {
                const int sx = 3 - y, sy = x;
                const float want = sx >= 0 ? at(t, sy, sx, c) : 0.0f;
                turned_ok = turned_ok && out[(y * 5 + x) * 13 + c] == want;
            }
    CHECK(turned_ok);
    // Just outside either side: zeros; a quarter in from the bottom-right corner: its weights.
    for (float shift : {-1e-3f, 4.001f}) {
        out = sample(t, matrix(1, 0, shift, 0, 1, 0), 1, 1);
        CHECK(out[0] == 0.0f && out[12] == 0.0f);
    }
    out = sample(t, matrix(1, 0, 3.25f, 0, 1, 5.75f), 1, 1);
    const float top = 0.75f * at(t, 5, 3, 2) + 0.25f * at(t, 5, 4, 2);
    const float bottom = 0.75f * at(t, 6, 3, 2) + 0.25f * at(t, 6, 4, 2);
    CHECK(out[2] == 0.75f * bottom + 0.25f * top);
}

TEST(attention_matrix_frames_the_subset_box) {
    // Rotation points level; subset box x 2..10, y 3..7: centre (6, 5), 8 x 4, grown 1.5x.
    std::vector<float> mesh = spread_mesh();
    const float layout[5][2] = {{0, 0}, {10, 0}, {2, 3}, {10, 7}, {5, 5}};
    for (int i = 0; i < 5; ++i) {
        mesh[3 * i] = 4 * layout[i][0];  // mesh_scale 0.25 brings them back
        mesh[3 * i + 1] = 4 * layout[i][1];
    }
    float m[16];
    attention_matrix(mesh.data(), 0.25f, small_region(), m);
    const double corners[3][4] = {{0, 0, 0, 2}, {8, 8, 6, 5}, {16, 16, 12, 8}};
    for (const auto& k : corners) {
        const Point p = apply(m, k[0], k[1]);
        CHECK_MSG(std::fabs(p.x - k[2]) < 1e-5 && std::fabs(p.y - k[3]) < 1e-5,
                  "crop (" << k[0] << ", " << k[1] << ") -> (" << p.x << ", " << p.y << ")");
    }
    CHECK(m[2] == 0 && m[6] == 0 && m[8] == 0 && m[9] == 0 && m[10] == 1 && m[11] == 0 &&
          m[12] == 0 && m[13] == 0 && m[14] == 0 && m[15] == 1);
    // The same layout turned by 30 degrees: the crop turns with it.
    const double a = kPi / 6, c = std::cos(a), s = std::sin(a);
    for (int i = 0; i < 5; ++i) {
        mesh[3 * i] = static_cast<float>(4 * (c * layout[i][0] - s * layout[i][1]));
        mesh[3 * i + 1] = static_cast<float>(4 * (s * layout[i][0] + c * layout[i][1]));
    }
    attention_matrix(mesh.data(), 0.25f, small_region(), m);
    for (const auto& k : {corners[0], corners[2]}) {
        const Point p = apply(m, k[0], k[1]);
        const double wx = c * k[2] - s * k[3], wy = s * k[2] + c * k[3];
        CHECK_MSG(std::fabs(p.x - wx) < 1e-4 && std::fabs(p.y - wy) < 1e-4,
                  "turned crop (" << k[0] << ", " << k[1] << ") -> (" << p.x << ", " << p.y
                                  << "), expected (" << wx << ", " << wy << ")");
    }
    // A target rotation of 30 degrees on the level layout: the crop's x axis turned by -30.
    for (int i = 0; i < 5; ++i) {
        mesh[3 * i] = 4 * layout[i][0];
        mesh[3 * i + 1] = 4 * layout[i][1];
    }
    attention_matrix(mesh.data(), 0.25f, small_region(a), m);
    CHECK(std::fabs(std::atan2(m[4], m[0]) + a) < 1e-6 && std::fabs(std::atan2(m[1], m[5]) - a) < 1e-6);
}

TEST(attention_landmarks_assemble_and_project) {
    const std::vector<float> mesh = spread_mesh();
    const AttentionRegion regions[3] = {
        {{0, 1, 2, 3}, 61, 291, 0, 1.5, 1.5, 16, 16},
        {{33, 133, 7}, 33, 133, 0, 1.5, 1.5, 16, 16},
        {{362, 263}, 362, 263, 0, 1.5, 1.5, 16, 16}};
    float lips[8], left_eye[6], right_eye[4], left_iris[10], right_iris[10];
    for (int i = 0; i < 8; ++i) lips[i] = static_cast<float>(i);
    for (int i = 0; i < 6; ++i) left_eye[i] = static_cast<float>(20 + i);
    for (int i = 0; i < 4; ++i) right_eye[i] = static_cast<float>(40 + i);
    for (int i = 0; i < 10; ++i) {
        left_iris[i] = static_cast<float>(60 + i);
        right_iris[i] = static_cast<float>(80 + i);
    }
    const AttentionHeads heads{lips, left_eye, left_iris, right_eye, right_iris};
    // Region k: x -> 2x + 10k, y -> y / 2 + 1 after the scale (the matrix is half that).
    std::vector<float> matrices, scale;
    for (int k = 0; k < 3; ++k) {
        const std::vector<float> mk = matrix(1, 0, 2.5f * k, 0, 0.25f, 0.25f);
        const std::vector<float> sk = matrix(2, 1, 4, 1, 2, 4);
        matrices.insert(matrices.end(), mk.begin(), mk.end());
        scale.insert(scale.end(), sk.begin(), sk.end());
    }
    // An ROI that maps input pixels to image pixels one to one: the assembly shows as is.
    const RotatedRect identity{96, 96, 192, 192, 0};
    std::vector<float> out(3 * kRefinedLandmarks, kNaN);
    attention_landmarks(mesh.data(), heads, matrices.data(), scale.data(), regions, identity, 192,
                        out.data());
    auto row = [&](int i) { return &out[3 * i]; };
    auto expect = [&](int index, float x, float y, float z) {
        CHECK_MSG(std::fabs(row(index)[0] - x) < 1e-4 && std::fabs(row(index)[1] - y) < 1e-4 &&
                      std::fabs(row(index)[2] - z) < 1e-4,
                  "row " << index << " = (" << row(index)[0] << ", " << row(index)[1] << ", "
                         << row(index)[2] << "), expected (" << x << ", " << y << ", " << z << ")");
    };
    for (int i = 0; i < 4; ++i)  // lips: subset rows, z from the mesh
        expect(regions[0].subset[i], 2 * lips[2 * i], lips[2 * i + 1] / 2 + 1,
               mesh[3 * regions[0].subset[i] + 2]);
    for (int i = 0; i < 3; ++i)
        expect(regions[1].subset[i], 2 * left_eye[2 * i] + 10, left_eye[2 * i + 1] / 2 + 1,
               mesh[3 * regions[1].subset[i] + 2]);
    for (int i = 0; i < 2; ++i)
        expect(regions[2].subset[i], 2 * right_eye[2 * i] + 20, right_eye[2 * i + 1] / 2 + 1,
               mesh[3 * regions[2].subset[i] + 2]);
    expect(200, mesh[600], mesh[601], mesh[602]);  // a row no region refines
    double right_z = 0, left_z = 0;
    for (int i : kRightEyeContour) right_z += mesh[3 * i + 2];
    for (int i : kLeftEyeContour) left_z += mesh[3 * i + 2];
    for (int i = 0; i < 5; ++i) {  // the left-eye crop's iris is the subject's right iris
        expect(kRightIrisFirst + i, 2 * left_iris[2 * i] + 10, left_iris[2 * i + 1] / 2 + 1,
               static_cast<float>(right_z / 16));
        expect(kLeftIrisFirst + i, 2 * right_iris[2 * i] + 20, right_iris[2 * i + 1] / 2 + 1,
               static_cast<float>(left_z / 16));
    }
    // Any ROI: exactly project_landmarks of that assembly.
    const RotatedRect roi{300, 200, 150, 150, 0.4};
    std::vector<float> projected(3 * kRefinedLandmarks), assembled = out;
    attention_landmarks(mesh.data(), heads, matrices.data(), scale.data(), regions, roi, 192,
                        projected.data());
    project_landmarks(assembled.data(), kRefinedLandmarks, roi, 192, assembled.data());
    CHECK(std::memcmp(projected.data(), assembled.data(), projected.size() * sizeof(float)) == 0);
    // A broken value anywhere: refused before anything is written.
    std::vector<float> untouched(3 * kRefinedLandmarks, 7.f);
    right_iris[9] = kNaN;
    CHECK_THROWS_AS(attention_landmarks(mesh.data(), heads, matrices.data(), scale.data(), regions,
                                        roi, 192, untouched.data()),
                    std::invalid_argument);
    right_iris[9] = 0;
    scale[47] = INFINITY;
    CHECK_THROWS_AS(attention_landmarks(mesh.data(), heads, matrices.data(), scale.data(), regions,
                                        roi, 192, untouched.data()),
                    std::invalid_argument);
    scale[47] = 1;
    CHECK_THROWS_AS(attention_landmarks(mesh.data(), heads, matrices.data(), scale.data(), regions,
                                        {0, 0, -1, 1, 0}, 192, untouched.data()),
                    std::invalid_argument);
    CHECK_THROWS_AS(attention_landmarks(mesh.data(), heads, matrices.data(), scale.data(), regions,
                                        roi, 0, untouched.data()),
                    std::invalid_argument);
    bool kept = true;
    for (float v : untouched) kept = kept && v == 7.f;
    CHECK(kept);
}

TEST(attention_invalid_input_throws) {
    using std::invalid_argument;
    std::vector<float> mesh = spread_mesh();
    float m[16];
    std::fill(m, m + 16, 7.f);
    auto bad_region = [&](AttentionRegion r) {
        CHECK_THROWS_AS(check_attention_region(r), invalid_argument);
        CHECK_THROWS_AS(attention_matrix(mesh.data(), 0.25f, r, m), invalid_argument);
    };
    check_attention_region(small_region());
    AttentionRegion r = small_region();
    r.subset.clear();
    bad_region(r);
    r = small_region();
    r.subset.push_back(468);
    bad_region(r);
    r = small_region();
    r.subset[0] = -1;
    bad_region(r);
    r = small_region();
    r.right_index = 0;  // the same point as left
    bad_region(r);
    r = small_region();
    r.left_index = 500;
    bad_region(r);
    r = small_region(std::nan(""));
    bad_region(r);
    for (double scale : {0.0, -1.5, HUGE_VAL, std::nan("")}) {
        r = small_region();
        r.scale_y = scale;
        bad_region(r);
    }
    for (int side : {0, -16, kMaxCropSide + 1}) {
        r = small_region();
        r.output_width = side;
        bad_region(r);
    }
    // Non-finite mesh points the operator reads, coinciding rotation points, a flat box.
    CHECK_THROWS_AS(attention_matrix(mesh.data(), kNaN, small_region(), m), invalid_argument);
    CHECK_THROWS_AS(attention_matrix(mesh.data(), 0.f, small_region(), m), invalid_argument);
    CHECK_THROWS_AS(attention_matrix(nullptr, 0.25f, small_region(), m), invalid_argument);
    mesh[3 * 3 + 1] = kNaN;
    CHECK_THROWS_AS(attention_matrix(mesh.data(), 0.25f, small_region(), m), invalid_argument);
    mesh = spread_mesh();
    mesh[3 * 1] = mesh[0];
    mesh[3 * 1 + 1] = mesh[1];
    CHECK_THROWS_AS(attention_matrix(mesh.data(), 0.25f, small_region(), m), invalid_argument);
    mesh = spread_mesh();
    mesh[3 * 1 + 1] = mesh[1];  // a level rotation line
    for (int i : {2, 3, 4}) {
        mesh[3 * i] = 50;
        mesh[3 * i + 1] = 60;
    }
    CHECK_THROWS_AS(attention_matrix(mesh.data(), 0.25f, small_region(), m), invalid_argument);
    mesh[3 * 4] = 70;  // a line along x: zero height
    CHECK_THROWS_AS(attention_matrix(mesh.data(), 0.25f, small_region(), m), invalid_argument);
    mesh[3 * 4] = 3e38f;  // finite, but not once scaled
    CHECK_THROWS_AS(attention_matrix(mesh.data(), 4.f, small_region(), m), invalid_argument);
    AttentionRegion wide = small_region();
    wide.scale_x = 1e6;  // a finite box whose matrix overflows float
    CHECK_THROWS_AS(attention_matrix(mesh.data(), 1.f, wide, m), invalid_argument);
    bool kept = true;
    for (float v : m) kept = kept && v == 7.f;
    CHECK(kept);

    Rng rng(5);
    const Tensor t = random_tensor(4, 4, 3, rng);
    std::vector<float> out(16 * 16 * 3), id = matrix(1, 0, 0, 0, 1, 0);
    CHECK_THROWS_AS(transform_bilinear(nullptr, 4, 4, 3, id.data(), 16, 16, out.data()), invalid_argument);
    CHECK_THROWS_AS(transform_bilinear(t.data.data(), 4, 4, 3, nullptr, 16, 16, out.data()), invalid_argument);
    CHECK_THROWS_AS(transform_bilinear(t.data.data(), 4, 4, 3, id.data(), 16, 16, nullptr), invalid_argument);
    CHECK_THROWS_AS(transform_bilinear(t.data.data(), 0, 4, 3, id.data(), 16, 16, out.data()), invalid_argument);
    CHECK_THROWS_AS(transform_bilinear(t.data.data(), 4, -4, 3, id.data(), 16, 16, out.data()), invalid_argument);
    CHECK_THROWS_AS(transform_bilinear(t.data.data(), 4, 4, 0, id.data(), 16, 16, out.data()), invalid_argument);
    CHECK_THROWS_AS(transform_bilinear(t.data.data(), 4, 4, 3, id.data(), 0, 16, out.data()), invalid_argument);
    CHECK_THROWS_AS(transform_bilinear(t.data.data(), 4, 4, 3, id.data(), 16, kMaxCropSide + 1, out.data()), invalid_argument);
    id[3] = kNaN;
    CHECK_THROWS_AS(transform_bilinear(t.data.data(), 4, 4, 3, id.data(), 16, 16, out.data()), invalid_argument);
}
