// Tests of the yuv420p <-> RGB conversion: its row kernels on every available SIMD path against
// the scalar reference, byte for byte, over every row width up to 70 (inputs flush against
// guard pages at either end), and the whole-frame functions: greys stay grey, a round trip of a
// smooth picture comes back within 2, a change is written back over its span only, and bad
// planes are refused.
#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <stdexcept>
#include <vector>

#include "check.h"
#include "facekit/dispatch.h"
#include "facekit/yuv.h"
#include "kernels/video_kernels.h"

using facekit::testing::Guarded;
using facekit::testing::Rng;

namespace {

using namespace facekit;

struct IsaRestorer {
    Isa saved = active_isa();
    ~IsaRestorer() { force_isa(saved); }
};

void fill(std::uint8_t* p, std::size_t n, Rng& rng) {
    for (std::size_t i = 0; i < n; ++i) p[i] = static_cast<std::uint8_t>(rng.uniform_int(0, 255));
}

// Runs `call` on every path and compares the `n` bytes of each output with the scalar run's;
// outputs are prefilled with noise so that a write past n shows.
void compare_paths(const char* what, int width, std::vector<std::pair<std::uint8_t*, std::size_t>> outputs,
                   const std::function<void()>& call) {
    IsaRestorer restore;
    std::vector<std::vector<std::uint8_t>> expected;
    Rng noise(static_cast<std::uint64_t>(width) + 11);
    std::vector<std::uint8_t> junk(4096);
    fill(junk.data(), junk.size(), noise);
    force_isa(Isa::Scalar);
    for (auto& [p, n] : outputs) std::memcpy(p, junk.data(), n);
    call();
    for (auto& [p, n] : outputs) expected.emplace_back(p, p + n);
    for (Isa isa : available_isas()) {
        force_isa(isa);
        for (auto& [p, n] : outputs) std::memcpy(p, junk.data(), n);
        call();
        for (std::size_t k = 0; k < outputs.size(); ++k)
            CHECK_MSG(std::memcmp(outputs[k].first, expected[k].data(), outputs[k].second) == 0,
                      isa_name(isa) << " differs from scalar for " << what << " width " << width);
    }
}

kernels::YuvCoefficients some_coefficients(Rng& rng) {
    // The kernels' arithmetic, whatever the matrix: coefficients of the real ones' sizes.
    kernels::YuvCoefficients k{};
    k.y_offset = rng.uniform_int(0, 1) * 16;
    k.y_gain = rng.uniform_int(1 << 20, 1230000);
    k.r_v = rng.uniform_int(90000, 140000);
    k.g_u = -rng.uniform_int(10000, 30000);
    k.g_v = -rng.uniform_int(20000, 60000);
    k.b_u = rng.uniform_int(110000, 140000);
    k.centred = rng.uniform_int(0, 1);
    k.y_r = rng.uniform_int(10000, 20000), k.y_g = rng.uniform_int(30000, 40000);
    k.y_b = rng.uniform_int(4000, 8000), k.y_bias = (k.y_offset << 16) + (1 << 15);
    k.u_r = -rng.uniform_int(5000, 10000), k.u_g = -rng.uniform_int(15000, 20000);
    k.u_b = -(k.u_r + k.u_g);
    k.v_g = -rng.uniform_int(15000, 25000), k.v_b = -rng.uniform_int(2000, 4000);
    k.v_r = -(k.v_g + k.v_b);
    k.c_bias = (128 << 20) + (1 << 19);
    return k;
}

TEST(yuv_row_kernels_match_scalar_bit_for_bit) {
    for (int width = 1; width <= 70; ++width) {
        for (bool flush_start : {false, true}) {
            Rng rng(static_cast<std::uint64_t>(width) * 7 + flush_start);
            const kernels::YuvCoefficients k = some_coefficients(rng);
            const std::size_t n = static_cast<std::size_t>(width), cw = (n + 1) / 2;
            Guarded y(n, flush_start), u0(cw, flush_start), u1(cw, flush_start), v0(cw, flush_start),
                v1(cw, flush_start), rgb(3 * n, flush_start), out(3 * n, flush_start);
            Guarded rows[4] = {Guarded(3 * n, flush_start), Guarded(3 * n, flush_start),
                               Guarded(3 * n, flush_start), Guarded(3 * n, flush_start)};
            for (Guarded* g : {&y, &u0, &u1, &v0, &v1}) fill(g->bytes(), g->size(), rng);
            for (Guarded& g : rows) fill(g.bytes(), g.size(), rng);
            compare_paths("yuv_to_rgb_row", width, {{out.bytes(), 3 * n}}, [&] {
                kernels::yuv_to_rgb_row(y.bytes(), u0.bytes(), u1.bytes(), v0.bytes(), v1.bytes(),
                                        width, k, out.bytes());
            });
            compare_paths("rgb_to_y_row", width, {{y.bytes(), n}}, [&] {
                kernels::rgb_to_y_row(rows[1].bytes(), width, k, y.bytes());
            });
            compare_paths("rgb_to_uv_row", width, {{u0.bytes(), cw}, {v0.bytes(), cw}}, [&] {
                kernels::rgb_to_uv_row(rows[0].bytes(), rows[1].bytes(), rows[2].bytes(),
                                       rows[3].bytes(), width, k, u0.bytes(), v0.bytes());
            });
        }
    }
}

struct Frame {
    int w, h;
    std::vector<std::uint8_t> y, u, v;
    Frame(int width, int height)
        : w(width), h(height), y(static_cast<std::size_t>(w) * h),
          u(static_cast<std::size_t>((w + 1) / 2) * ((h + 1) / 2)), v(u.size()) {}
    int cw() const { return (w + 1) / 2; }
    int ch() const { return (h + 1) / 2; }
    ImageView view(const std::vector<std::uint8_t>& p, int pw, int ph) const {
        return {p.data(), pw, ph, pw, PixelFormat::Gray};
    }
    PlaneOut out(std::vector<std::uint8_t>& p, int pw, int ph) { return {p.data(), pw, ph, pw}; }
};

TEST(yuv_frames_keep_greys_and_round_trip_a_smooth_picture) {
    IsaRestorer restore;
    for (Isa isa : available_isas()) {
        force_isa(isa);
        for (YuvMatrix matrix : {YuvMatrix::Bt601, YuvMatrix::Bt709})
            for (bool full : {false, true}) {
                const int w = 37, h = 23;
                const YuvFormat format{matrix, full, true};
                std::vector<std::uint8_t> rgb(static_cast<std::size_t>(w) * h * 3), back(rgb.size());
                for (int r = 0; r < h; ++r)
                    for (int x = 0; x < w; ++x)
                        for (int c = 0; c < 3; ++c)
                            rgb[(static_cast<std::size_t>(r) * w + x) * 3 + c] =
                                static_cast<std::uint8_t>(40 + 3 * x + 2 * r + 20 * c);
                Frame f(w, h);
                rgb_to_yuv420({rgb.data(), w, h, 3 * w, PixelFormat::RGB}, format,
                              f.out(f.y, w, h), f.out(f.u, f.cw(), f.ch()), f.out(f.v, f.cw(), f.ch()));
                yuv420_to_rgb(f.view(f.y, w, h), f.view(f.u, f.cw(), f.ch()), f.view(f.v, f.cw(), f.ch()),
                              format, {back.data(), w, h, 3 * w});
                int worst = 0;
                for (std::size_t i = 0; i < rgb.size(); ++i)
                    worst = std::max(worst, std::abs(int(rgb[i]) - int(back[i])));
                CHECK_MSG(worst <= 2, isa_name(isa) << " round trip off by " << worst);
                // Every grey level: chroma exactly neutral, and back to the same grey.
                std::vector<std::uint8_t> grey(256 * 2 * 3), grey_back(grey.size());
                for (int x = 0; x < 256; ++x)
                    for (int r = 0; r < 2; ++r)
                        for (int c = 0; c < 3; ++c) grey[(r * 256 + x) * 3 + c] = static_cast<std::uint8_t>(x);
                Frame g(256, 2);
                rgb_to_yuv420({grey.data(), 256, 2, 768, PixelFormat::RGB}, format, g.out(g.y, 256, 2),
                              g.out(g.u, 128, 1), g.out(g.v, 128, 1));
                for (int i = 0; i < 128; ++i) CHECK(g.u[i] == 128 && g.v[i] == 128);
                yuv420_to_rgb(g.view(g.y, 256, 2), g.view(g.u, 128, 1), g.view(g.v, 128, 1), format,
                              {grey_back.data(), 256, 2, 768});
                // Full range keeps all 256 levels; limited range has 220, so greys come back within 1.
                for (std::size_t i = 0; i < grey.size(); ++i)
                    CHECK(std::abs(int(grey_back[i]) - int(grey[i])) <= (full ? 0 : 1));
            }
    }
}

TEST(yuv_changes_rewrite_only_the_changed_spans) {
    // A patch changed in rows 7-9, columns 5-10 of a 24x16 picture: chroma rows 3-5 read those
    // rows, so luma rows 6-11 and chroma rows 3-5 over columns 4-11 (samples 2-5) are the full
    // conversion of `after`; every other byte keeps the planes' old value (here 7: not any
    // conversion's output, so a stray write shows).
    const int w = 24, h = 16;
    Rng rng(5);
    std::vector<std::uint8_t> before(static_cast<std::size_t>(w) * h * 3), after;
    fill(before.data(), before.size(), rng);
    after = before;
    for (int r = 7; r <= 9; ++r)
        for (int x = 5; x <= 10; ++x) after[(static_cast<std::size_t>(r) * w + x) * 3 + 1] ^= 0x55;
    const ImageView was{before.data(), w, h, 3 * w, PixelFormat::RGB};
    const ImageView now{after.data(), w, h, 3 * w, PixelFormat::RGB};
    Frame full(w, h), kept(w, h);
    rgb_to_yuv420(now, {}, full.out(full.y, w, h), full.out(full.u, 12, 8), full.out(full.v, 12, 8));
    for (auto* p : {&kept.y, &kept.u, &kept.v}) std::fill(p->begin(), p->end(), 7);
    rgb_changes_to_yuv420(was, now, {}, kept.out(kept.y, w, h), kept.out(kept.u, 12, 8),
                          kept.out(kept.v, 12, 8));
    for (int r = 0; r < h; ++r)
        for (int x = 0; x < w; ++x) {
            const std::size_t i = static_cast<std::size_t>(r) * w + x;
            const bool inside = r >= 6 && r <= 11 && x >= 4 && x <= 11;
            CHECK(kept.y[i] == (inside ? full.y[i] : 7));
        }
    for (int j = 0; j < 8; ++j)
        for (int i = 0; i < 12; ++i) {
            const std::size_t k = static_cast<std::size_t>(j) * 12 + i;
            const bool inside = j >= 3 && j <= 5 && i >= 2 && i <= 5;
            CHECK(kept.u[k] == (inside ? full.u[k] : 7) && kept.v[k] == (inside ? full.v[k] : 7));
        }
}

TEST(yuv_frames_refuse_planes_too_small) {
    Frame f(8, 8);
    std::vector<std::uint8_t> rgb(8 * 8 * 3);
    const PlaneOut out{rgb.data(), 8, 8, 24};
    CHECK_THROWS_AS(yuv420_to_rgb(f.view(f.y, 8, 8), f.view(f.u, 3, 4), f.view(f.v, 4, 4), {}, out),
                    std::invalid_argument);
    CHECK_THROWS_AS(yuv420_to_rgb(f.view(f.y, 8, 8), f.view(f.u, 4, 4), f.view(f.v, 4, 4), {},
                                  PlaneOut{rgb.data(), 8, 7, 24}),
                    std::invalid_argument);
    CHECK_THROWS_AS(rgb_to_yuv420({rgb.data(), 8, 8, 24, PixelFormat::RGB}, {}, f.out(f.y, 8, 8),
                                  f.out(f.u, 4, 3), f.out(f.v, 4, 4)),
                    std::invalid_argument);
}

}  // namespace
