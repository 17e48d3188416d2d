// Tests of face fusion: its pyramid kernels on every available SIMD path against the scalar
// reference, bit for bit, over odd counts (inputs flush against guard pages), and the pipeline
// on a synthetic face: a mesh laid out flat by Tutte's embedding of the committed triangle
// table (every triangle positive, no face photo needed) over a patterned image.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>
#include <functional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "check.h"
#include "facekit/dispatch.h"
#include "facekit/fusion.h"
#include "facekit/landmarks.h"
#include "kernels/fusion_kernels.h"

using facekit::testing::Guarded;
using facekit::testing::Rng;

namespace {

using namespace facekit;

struct IsaRestorer {
    Isa saved = active_isa();
    ~IsaRestorer() { force_isa(saved); }
};

// ---- kernels ----------------------------------------------------------------------------------

float* guarded_floats(Guarded& g) { return g.as<float>(); }

void fill(float* p, std::size_t n, Rng& rng) {
    for (std::size_t i = 0; i < n; ++i) p[i] = static_cast<float>(rng.uniform(-300.0, 300.0));
}

// Runs `call` on every path and compares its `outputs` (n floats each) with the scalar run's
// bytes; outputs are prefilled with noise so that a write past n shows.
void compare_paths(const char* what, std::size_t n, std::vector<float*> outputs,
                   const std::function<void()>& call) {
    IsaRestorer restore;
    Rng rng(n + 7);
    std::vector<float> noise(n + 8);
    fill(noise.data(), noise.size(), rng);
    std::vector<std::vector<float>> expected;
    force_isa(Isa::Scalar);
    for (float* o : outputs) std::memcpy(o, noise.data(), n * sizeof(float));
    call();
    for (float* o : outputs) expected.emplace_back(o, o + n);
    for (Isa isa : available_isas()) {
        force_isa(isa);
        for (float* o : outputs) std::memcpy(o, noise.data(), n * sizeof(float));
        call();
        for (std::size_t k = 0; k < outputs.size(); ++k)
            CHECK_MSG(std::memcmp(outputs[k], expected[k].data(), n * sizeof(float)) == 0,
                      isa_name(isa) << " differs from scalar for " << what << " n=" << n);
    }
}

const std::size_t kCounts[] = {1, 3, 4, 7, 8, 9, 15, 16, 17, 31, 33, 100, 257};

TEST(fusion_pyramid_kernels_match_scalar_bit_for_bit) {
    for (std::size_t n : kCounts) {
        Rng rng(n);
        Guarded a(n * 4), b(n * 4), c(n * 4), d(n * 4), e(n * 4), out(n * 4), odd(n * 4);
        for (Guarded* g : {&a, &b, &c, &d, &e}) fill(guarded_floats(*g), n, rng);
        compare_paths("pyr_down_rows", n, {out.as<float>()}, [&] {
            kernels::pyr_down_rows(a.as<float>(), b.as<float>(), c.as<float>(), d.as<float>(),
                                   e.as<float>(), n, out.as<float>());
        });
        compare_paths("pyr_up_rows", n, {out.as<float>(), odd.as<float>()}, [&] {
            kernels::pyr_up_rows(a.as<float>(), b.as<float>(), c.as<float>(), n, out.as<float>(),
                                 odd.as<float>());
        });
        compare_paths("masked_add", n, {out.as<float>()}, [&] {
            std::memcpy(out.as<float>(), c.as<float>(), n * sizeof(float));
            kernels::masked_add(a.as<float>(), b.as<float>(), n, out.as<float>());
        });
    }
}

TEST(fusion_pyramid_column_kernels_match_scalar_bit_for_bit) {
    // Row lengths around every block size and border case; inputs flush against a guard page.
    for (int n = 1; n <= 70; ++n) {
        Rng rng(static_cast<std::uint64_t>(n) * 31);
        Guarded in(static_cast<std::size_t>(n) * 4);
        fill(in.as<float>(), static_cast<std::size_t>(n), rng);
        const int down_w = (n + 1) / 2;
        Guarded down(static_cast<std::size_t>(down_w) * 4);
        compare_paths("pyr_down_cols", static_cast<std::size_t>(down_w), {down.as<float>()},
                      [&] { kernels::pyr_down_cols(in.as<float>(), n, down.as<float>(), down_w); });
        for (int up_w : {2 * n, 2 * n - 1}) {
            if (up_w < 1) continue;
            Guarded up(static_cast<std::size_t>(up_w) * 4);
            compare_paths("pyr_up_cols", static_cast<std::size_t>(up_w), {up.as<float>()},
                          [&] { kernels::pyr_up_cols(in.as<float>(), n, up.as<float>(), up_w); });
        }
    }
}

TEST(fusion_rgb_split_and_join_kernels_match_scalar_bit_for_bit) {
    IsaRestorer restore;
    for (std::size_t n : kCounts) {
        Rng rng(n * 13);
        // Inputs flush against a guard page after them (a read past 3n bytes faults).
        Guarded top(3 * n), base(3 * n), planes(3 * n * 4), out(3 * n);
        for (std::size_t i = 0; i < 3 * n; ++i) top.bytes()[i] = rng.byte(), base.bytes()[i] = rng.byte();
        float* p = planes.as<float>();
        compare_paths("rgb_difference", 3 * n, {p}, [&] {
            kernels::rgb_difference(top.bytes(), base.bytes(), n, p, p + n, p + 2 * n);
        });
        // Sums below 0, above 255, at the rounding halves, and NaN.
        fill(p, 3 * n, rng);
        const float edges[] = {-0.5f, -0.0f, 0.49f, 0.5f, 127.5f, 254.5f, 255.0f, 255.5f, 1e9f,
                               -1e9f, std::nanf("")};
        for (std::size_t i = 0; i < std::size(edges) && i < 3 * n; ++i)
            p[(i * 7) % (3 * n)] = edges[i] - static_cast<float>(base.bytes()[0]);
        p[0] = std::nanf("");
        force_isa(Isa::Scalar);
        kernels::rgb_add_round(base.bytes(), p, p + n, p + 2 * n, n, out.bytes());
        const std::vector<std::uint8_t> expected(out.bytes(), out.bytes() + 3 * n);
        CHECK(expected[0] == 0);  // NaN
        for (Isa isa : available_isas()) {
            force_isa(isa);
            std::memset(out.bytes(), 0xA5, 3 * n);
            kernels::rgb_add_round(base.bytes(), p, p + n, p + 2 * n, n, out.bytes());
            CHECK_MSG(std::memcmp(out.bytes(), expected.data(), 3 * n) == 0,
                      isa_name(isa) << " differs from scalar for rgb_add_round n=" << n);
        }
    }
}

TEST(fusion_rgb_split_and_join_round_trip) {
    // The join of the split of (top, base) is top again: every plane value is an exact integer.
    const std::size_t n = 37;
    Rng rng(5);
    std::vector<std::uint8_t> top(3 * n), base(3 * n), out(3 * n);
    for (std::size_t i = 0; i < 3 * n; ++i) top[i] = rng.byte(), base[i] = rng.byte();
    std::vector<float> planes(3 * n);
    kernels::rgb_difference(top.data(), base.data(), n, planes.data(), planes.data() + n,
                            planes.data() + 2 * n);
    CHECK(planes[n + 1] == static_cast<float>(top[4]) - static_cast<float>(base[4]));  // pixel 1, green
    kernels::rgb_add_round(base.data(), planes.data(), planes.data() + n, planes.data() + 2 * n, n,
                           out.data());
    CHECK(out == top);
}

TEST(fusion_pyramid_filters_keep_constants_and_a_zero_mask_adds_nothing) {
    std::vector<float> v(37, 42.5f), out(37), odd(37), acc(37, 3.0f), zero(37, 0.0f);
    kernels::pyr_down_rows(v.data(), v.data(), v.data(), v.data(), v.data(), v.size(), out.data());
    CHECK(std::all_of(out.begin(), out.end(), [](float x) { return x == 42.5f; }));
    kernels::pyr_up_rows(v.data(), v.data(), v.data(), v.size(), out.data(), odd.data());
    CHECK(std::all_of(out.begin(), out.end(), [](float x) { return x == 42.5f; }));
    CHECK(std::all_of(odd.begin(), odd.end(), [](float x) { return x == 42.5f; }));
    kernels::pyr_down_cols(v.data(), 37, out.data(), 19);
    CHECK(std::all_of(out.begin(), out.begin() + 19, [](float x) { return x == 42.5f; }));
    kernels::pyr_up_cols(v.data(), 18, out.data(), 36);
    CHECK(std::all_of(out.begin(), out.begin() + 36, [](float x) { return x == 42.5f; }));
    kernels::masked_add(v.data(), zero.data(), v.size(), acc.data());
    CHECK(std::all_of(acc.begin(), acc.end(), [](float x) { return x == 3.0f; }));
}

// ---- a synthetic face -------------------------------------------------------------------------

std::string read_text(const std::string& path) {
    std::ifstream in(path);
    if (!in) throw std::runtime_error("cannot read " + path);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

// The integers of the JSON list that follows "key": in `text` (nested lists flattened).
std::vector<int> int_list(const std::string& text, const std::string& key) {
    std::size_t at = text.find("\"" + key + "\"");
    if (at == std::string::npos) throw std::runtime_error("no " + key);
    at = text.find('[', at);
    std::vector<int> out;
    int depth = 0;
    for (std::size_t i = at; i < text.size(); ++i) {
        const char ch = text[i];
        if (ch == '[') ++depth;
        else if (ch == ']' && --depth == 0) break;
        else if (ch >= '0' && ch <= '9') {
            int v = 0;
            while (text[i] >= '0' && text[i] <= '9') v = v * 10 + (text[i++] - '0');
            --i;
            out.push_back(v);
        }
    }
    return out;
}

struct Face {
    std::vector<int> triangles;
    MeshRegions regions;
    std::vector<float> mesh;  // 468 x 3, unit-sized layout centred on 0
};

// Tutte's embedding: the face oval on an ellipse, every other point the mean of its neighbours
// (Gauss-Seidel). The holes (mouth, eyes) come out as convex openings.
const Face& face() {
    static const Face f = [] {
        Face out;
        const std::string dir = std::string(FACEKIT_SOURCE_DIR) + "/facekit/data/";
        out.triangles = int_list(read_text(dir + "face_triangles.json"), "triangles");
        const std::string regions = read_text(dir + "mesh_regions.json");
        const char* names[] = {"face_oval", "lips_outer", "lips_inner", "left_eye",
                               "right_eye", "left_brow",  "right_brow", "nostrils"};
        for (int r = 0; r < static_cast<int>(Region::Count); ++r)
            out.regions[r] = int_list(regions, names[r]);
        std::vector<std::vector<int>> neighbours(kMeshLandmarks);
        for (std::size_t t = 0; t + 2 < out.triangles.size(); t += 3)
            for (int i = 0; i < 3; ++i)
                for (int j = 0; j < 3; ++j)
                    if (i != j) neighbours[out.triangles[t + i]].push_back(out.triangles[t + j]);
        std::vector<double> x(kMeshLandmarks, 0), y(kMeshLandmarks, 0);
        std::vector<bool> fixed(kMeshLandmarks, false);
        const auto& oval = out.regions[0];
        for (std::size_t k = 0; k < oval.size(); ++k) {
            const double angle = 2 * M_PI * static_cast<double>(k) / static_cast<double>(oval.size());
            x[oval[k]] = 0.8 * std::sin(angle), y[oval[k]] = -std::cos(angle);
            fixed[oval[k]] = true;
        }
        for (int it = 0; it < 3000; ++it)
            for (int i = 0; i < kMeshLandmarks; ++i) {
                if (fixed[i]) continue;
                double sx = 0, sy = 0;
                for (int j : neighbours[i]) sx += x[j], sy += y[j];
                x[i] = sx / static_cast<double>(neighbours[i].size());
                y[i] = sy / static_cast<double>(neighbours[i].size());
            }
        // Wind it like the table (positive areas): mirror if the oval came out the other way.
        double area = 0;
        for (std::size_t t = 0; t + 2 < out.triangles.size(); t += 3) {
            const int a = out.triangles[t], b = out.triangles[t + 1], c = out.triangles[t + 2];
            area += (x[b] - x[a]) * (y[c] - y[a]) - (y[b] - y[a]) * (x[c] - x[a]);
        }
        out.mesh.resize(kMeshLandmarks * 3);
        for (int i = 0; i < kMeshLandmarks; ++i) {
            out.mesh[3 * i] = static_cast<float>(area < 0 ? -x[i] : x[i]);
            out.mesh[3 * i + 1] = static_cast<float>(y[i]);
        }
        return out;
    }();
    return f;
}

// The synthetic face placed at (cx, cy) with half-height `size`, squeezed horizontally by
// `squeeze` and bent by `bend` (a smooth displacement), as image landmarks.
std::vector<float> place(float cx, float cy, float size, float squeeze = 1.0f, float bend = 0.0f) {
    std::vector<float> out = face().mesh;
    for (int i = 0; i < kMeshLandmarks; ++i) {
        const float x = out[3 * i], y = out[3 * i + 1];
        out[3 * i] = cx + size * (x * squeeze + bend * y * y);
        out[3 * i + 1] = cy + size * y;
    }
    return out;
}

// A patterned RGB image: smooth gradients plus a checker, so warps and blends show.
std::vector<std::uint8_t> pattern(int w, int h, int seed) {
    std::vector<std::uint8_t> img(static_cast<std::size_t>(w) * h * 3);
    for (int y = 0; y < h; ++y)
        for (int x = 0; x < w; ++x) {
            std::uint8_t* p = &img[(static_cast<std::size_t>(y) * w + x) * 3];
            const int checker = ((x / (8 + seed)) + (y / (8 + seed))) % 2 ? 40 : 0;
            p[0] = static_cast<std::uint8_t>((x * 255 / w + checker) % 256);
            p[1] = static_cast<std::uint8_t>((y * 255 / h + 3 * seed) % 256);
            p[2] = static_cast<std::uint8_t>(((x + y) * 127 / (w + h) + 60 + checker) % 256);
        }
    return img;
}

struct Fusion {
    Arena user_arena, arena;
    FusionUser user;
    std::vector<std::uint8_t> user_image = pattern(300, 360, 5);

    Fusion() {
        const std::vector<float> user_mesh = place(150, 180, 120, 0.9f, 0.1f);
        ImageView view{user_image.data(), 300, 360, 300 * 3, PixelFormat::RGB};
        user = prepare_fusion_user(view, user_mesh.data(), kMeshLandmarks, 3, face().regions,
                                   user_arena);
    }

    // Fuses into a w x h template whose face is `mesh`; returns the output and fills `trace`.
    std::vector<std::uint8_t> run(const std::vector<std::uint8_t>& src, int w, int h,
                                  const std::vector<float>& mesh, const FusionParams& p,
                                  FusionTrace& trace, float* state = nullptr) {
        std::vector<std::uint8_t> dst = src;
        ImageView view{src.data(), w, h, static_cast<std::ptrdiff_t>(w) * 3, PixelFormat::RGB};
        trace.maps = true;
        fuse_face(view, dst.data(), view.stride, mesh.data(), kMeshLandmarks, 3, user,
                  face().triangles.data(), static_cast<int>(face().triangles.size() / 3),
                  face().regions, p, state, arena, &trace);
        return dst;
    }
};

FusionParams params(float shape, float features) {
    FusionParams p;
    p.shape = shape, p.features = features;
    return p;
}

TEST(fusion_synthetic_layout_has_only_positive_triangles) {
    const std::vector<float> mesh = place(0, 0, 100);
    const auto& t = face().triangles;
    REQUIRE(t.size() == 852 * 3);
    for (std::size_t k = 0; k < t.size(); k += 3) {
        const float* a = &mesh[3 * t[k]];
        const float* b = &mesh[3 * t[k + 1]];
        const float* c = &mesh[3 * t[k + 2]];
        CHECK((b[0] - a[0]) * (c[1] - a[1]) - (b[1] - a[1]) * (c[0] - a[0]) > 0);
    }
}

TEST(fusion_prepare_user_gives_a_bounded_texture_and_refuses_tiny_faces) {
    Fusion f;
    CHECK(f.user.width <= kFusionMaxTextureSide && f.user.height <= kFusionMaxTextureSide);
    CHECK(f.user.width > 100 && f.user.height > 100);
    for (int i = 0; i < kFusionSkinStats; ++i) CHECK(std::isfinite(f.user.skin[i]));
    CHECK(f.user.skin[3] >= 0 && f.user.skin[4] >= 0 && f.user.skin[5] >= 0);
    // A large face is resampled to the bound, its mesh scaled with it.
    std::vector<std::uint8_t> big = pattern(1600, 1600, 2);
    const std::vector<float> mesh = place(800, 800, 700);
    ImageView view{big.data(), 1600, 1600, 1600 * 3, PixelFormat::RGB};
    Arena arena;
    const FusionUser user = prepare_fusion_user(view, mesh.data(), kMeshLandmarks, 3, face().regions, arena);
    CHECK(std::max(user.width, user.height) == kFusionMaxTextureSide);
    for (int i = 0; i < 2 * kMeshLandmarks; ++i)
        CHECK(user.mesh[i] >= -1 && user.mesh[i] <= kFusionMaxTextureSide);
    const std::vector<float> tiny = place(800, 800, 10);
    CHECK_THROWS_AS(prepare_fusion_user(view, tiny.data(), kMeshLandmarks, 3, face().regions, arena),
                    std::invalid_argument);
}

TEST(fusion_shape_and_features_zero_leave_the_image_bit_identical) {
    Fusion f;
    const int w = 400, h = 420;
    const std::vector<std::uint8_t> src = pattern(w, h, 1);
    FusionTrace trace;
    const auto out = f.run(src, w, h, place(200, 210, 130), params(0, 0), trace);
    CHECK(out == src);
    CHECK(trace.min_area > 0);
}

// Pixels farther than the margin outside the mask's box are untouched; inside, the face changed.
void check_locality(const std::vector<std::uint8_t>& src, const std::vector<std::uint8_t>& out,
                    int w, int h, const FusionTrace& t) {
    REQUIRE(t.mask != nullptr && t.x1 > t.x0);
    int mx0 = t.x1, my0 = t.y1, mx1 = t.x0 - 1, my1 = t.y0 - 1;
    for (int y = t.y0; y < t.y1; ++y)
        for (int x = t.x0; x < t.x1; ++x)
            if (t.mask[static_cast<std::size_t>(y - t.y0) * (t.x1 - t.x0) + (x - t.x0)])
                mx0 = std::min(mx0, x), mx1 = std::max(mx1, x), my0 = std::min(my0, y), my1 = std::max(my1, y);
    REQUIRE(mx1 >= mx0);
    std::size_t changed_far = 0, changed = 0;
    for (int y = 0; y < h; ++y)
        for (int x = 0; x < w; ++x) {
            const std::size_t i = (static_cast<std::size_t>(y) * w + x) * 3;
            const bool differs = std::memcmp(&src[i], &out[i], 3) != 0;
            changed += differs;
            const bool far = x < mx0 - t.margin || x > mx1 + t.margin || y < my0 - t.margin ||
                             y > my1 + t.margin;
            const bool outside = x < t.x0 || x >= t.x1 || y < t.y0 || y >= t.y1;
            changed_far += differs && (far || outside);
            // The blend fades out inside the region: its edge (unless the image's) keeps the
            // template, so stopping the writes there leaves no seam.
            const bool edge = (x == t.x0 && x > 0) || (x == t.x1 - 1 && x < w - 1) ||
                              (y == t.y0 && y > 0) || (y == t.y1 - 1 && y < h - 1);
            CHECK_MSG(!(differs && edge), "changed pixel on the region's edge at " << x << "," << y);
        }
    CHECK_MSG(changed_far == 0, changed_far << " pixels changed beyond the margin");
    CHECK(changed > 1000);
}

TEST(fusion_changes_only_the_face_region_without_folds) {
    Fusion f;
    const int w = 400, h = 420;
    const std::vector<std::uint8_t> src = pattern(w, h, 1);
    for (float s : {0.0f, 0.5f, 1.0f}) {
        FusionTrace trace;
        const auto out = f.run(src, w, h, place(200, 210, 130, 1.1f, -0.15f), params(s, 1), trace);
        CHECK_MSG(trace.min_area > 0, "shape " << s << " min_area " << trace.min_area);
        check_locality(src, out, w, h, trace);
    }
    // Shape alone moves the template's own pixels, inside the ring only.
    FusionTrace trace;
    const auto out = f.run(src, w, h, place(200, 210, 130, 1.1f, -0.15f), params(1, 0), trace);
    CHECK(out != src);
    CHECK(trace.min_area > 0);
}

TEST(fusion_faces_touching_the_border_fuse_without_a_crash) {
    Fusion f;
    const int w = 300, h = 280;
    const std::vector<std::uint8_t> src = pattern(w, h, 3);
    for (const auto& centre : {std::pair<float, float>{20, 140}, {280, 20}, {150, 270}, {0, 0}}) {
        for (FusionBlend blend : {FusionBlend::Multiband, FusionBlend::Poisson}) {
            FusionParams p = params(1, 1);
            p.blend = blend;
            FusionTrace trace;
            const auto out = f.run(src, w, h, place(centre.first, centre.second, 120), p, trace);
            CHECK(trace.x0 >= 0 && trace.y0 >= 0 && trace.x1 <= w && trace.y1 <= h);
            CHECK(out != src);
        }
    }
    // Entirely outside: nothing written.
    FusionTrace trace;
    const auto out = f.run(src, w, h, place(-900, -900, 120), params(1, 1), trace);
    CHECK(out == src);
}

TEST(fusion_video_state_smooths_the_template_statistics) {
    Fusion f;
    const int w = 320, h = 340;
    const std::vector<std::uint8_t> src = pattern(w, h, 4);
    float state[kFusionStateSize] = {};
    FusionParams p = params(0.5f, 1);
    p.smoothing = 0.9f;
    FusionTrace t1, t2;
    const auto first = f.run(src, w, h, place(160, 170, 110), p, t1, state);
    CHECK(state[7] == 2.0f);  // seeded by the track's first frame
    // The tracked landmarks of the next frame differ a little: their statistics replace the
    // first frame's, and from then on a still template gives identical frames.
    const auto second = f.run(src, w, h, place(161, 170, 110), p, t2, state);
    CHECK(state[7] == 1.0f);
    CHECK(second != first);
    const auto third = f.run(src, w, h, place(161, 170, 110), p, t2, state);
    CHECK(third == second);
    // The EMA moves towards a changed template only part of the way: a new track restarts it.
    std::vector<std::uint8_t> darker = src;
    for (auto& v : darker) v = static_cast<std::uint8_t>(v * 3 / 4);
    float before[kFusionStateSize];
    std::copy(state, state + kFusionStateSize, before);
    f.run(darker, w, h, place(161, 170, 110), p, t2, state);
    float fresh[kFusionStateSize] = {};
    f.run(darker, w, h, place(161, 170, 110), p, t2, fresh);
    for (int k = 0; k < 3; ++k) {  // Lab means: 10% of the way with smoothing 0.9
        CHECK(std::fabs(state[k] - (before[k] + 0.1f * (fresh[k] - before[k]))) < 1e-3f);
    }
    p.track = 7;
    f.run(darker, w, h, place(161, 170, 110), p, t2, state);
    CHECK(state[7] == 2.0f && state[6] == 7.0f);
    for (int k = 0; k < kFusionSkinStats; ++k) CHECK(state[k] == fresh[k]);
}

TEST(fusion_simd_paths_give_the_same_image) {
    Fusion f;
    const int w = 333, h = 301;
    const std::vector<std::uint8_t> src = pattern(w, h, 6);
    IsaRestorer restore;
    std::vector<std::uint8_t> reference;
    for (Isa isa : available_isas()) {
        force_isa(isa);
        FusionTrace trace;
        const auto out = f.run(src, w, h, place(170, 150, 115, 0.95f, 0.1f), params(0.7f, 0.8f), trace);
        if (reference.empty()) reference = out;
        CHECK_MSG(out == reference, isa_name(isa) << " fused image differs from scalar");
    }
}

TEST(fusion_bad_arguments_are_refused) {
    Fusion f;
    const int w = 200, h = 200;
    const std::vector<std::uint8_t> src = pattern(w, h, 1);
    FusionTrace trace;
    const auto mesh = place(100, 100, 80);
    CHECK_THROWS_AS(f.run(src, w, h, mesh, params(1.5f, 0), trace), std::invalid_argument);
    CHECK_THROWS_AS(f.run(src, w, h, mesh, params(0, -0.1f), trace), std::invalid_argument);
    CHECK_THROWS_AS(f.run(src, w, h, mesh, params(NAN, 0), trace), std::invalid_argument);
    CHECK_THROWS_AS(f.run(src, w, h, place(100, 100, 10), params(1, 1), trace),
                    std::invalid_argument);
    float state[kFusionStateSize] = {};
    state[7] = 5;
    CHECK_THROWS_AS(f.run(src, w, h, mesh, params(1, 1), trace, state), std::invalid_argument);
}

}  // namespace
