// Tests of the beauty engine's pixel kernels: every available SIMD path, through the dispatching
// functions, against the scalar reference, byte for byte, over odd sizes, tails, radii larger
// than the image, strides, channel counts, weights, masks and sampling positions. Inputs sit
// flush against PROT_NONE guard pages, so a path reading past its input faults; outputs are
// compared over whole buffers prefilled with noise, so a path writing outside its elements
// (between strided outputs, past the end) differs.
#include <algorithm>
#include <cinttypes>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <functional>
#include <limits>
#include <memory>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include <sys/mman.h>
#include <unistd.h>

#include "check.h"
#include "facekit/dispatch.h"
#include "kernels/beauty_kernels.h"

using facekit::testing::Guarded;
using facekit::testing::Rng;
using facekit::testing::copy_bytes;
using facekit::testing::same_bytes;

namespace {

using facekit::testing::g_compared;
using facekit::testing::report_compared;

using namespace facekit;


// A guarded array of `count` T (alignment of T kept: the size is a multiple of sizeof(T)).
template <typename T>
struct GuardedArray {
    Guarded memory;
    std::size_t count;
    explicit GuardedArray(std::size_t n, bool flush_start = false)
        : memory(std::max<std::size_t>(n, 1) * sizeof(T), flush_start), count(n) {}
    T* data() { return memory.as<T>(); }
    T& operator[](std::size_t i) { return data()[i]; }
};

void fill_noise(void* data, std::size_t bytes, Rng& rng) {
    auto* p = static_cast<std::uint8_t*>(data);
    for (std::size_t i = 0; i < bytes; ++i) p[i] = rng.byte();
}

struct IsaRestorer {
    Isa saved = active_isa();
    ~IsaRestorer() { force_isa(saved); }
};


// Runs `call` (which writes into `got`, `bytes` long, prefilled with `noise`) under every
// available path and requires exactly `expected`'s bytes, and one kernel call counted for the
// path. Returns false after the first mismatch, naming `what`.
bool paths_match(const std::string& what, const std::uint8_t* expected, std::uint8_t* got,
                 std::size_t bytes, const std::vector<std::uint8_t>& noise,
                 const std::function<void()>& call) {
    IsaRestorer restore;
    for (Isa isa : available_isas()) {
        force_isa(isa);
        copy_bytes(got, noise.data(), bytes);
        // No SSE4.1 variant: that path runs, and is counted as, the scalar kernel.
        const Isa ran = isa == Isa::Sse41 ? Isa::Scalar : isa;
        const std::uint64_t calls = kernel_calls(ran);
        call();
        CHECK_MSG(kernel_calls(ran) == calls + 1, isa_name(ran) << " kernel did not run: " << what);
        if (same_bytes(expected, got, bytes)) continue;
        std::size_t first = 0;
        while (first < bytes && expected[first] == got[first]) ++first;
        CHECK_MSG(false, isa_name(isa) << " differs from scalar for " << what << ": first at byte "
                                       << first << " of " << bytes << " ("
                                       << static_cast<int>(got[first]) << " vs "
                                       << static_cast<int>(expected[first]) << ")");
        return false;
    }
    ++g_compared;
    return true;
}

std::string dims(int w, int h) { return std::to_string(w) + "x" + std::to_string(h); }

// ---- box_sum --------------------------------------------------------------------------------

// Compares box_sum on a width x height plane of values from `value`, radius r. Source, scratch
// (exactly width + 2r + 1 values) and destination are guarded.
bool box_sum_matches(int width, int height, int r, Rng& rng,
                     const std::function<std::uint32_t(Rng&)>& value, const char* kind) {
    const std::size_t n = static_cast<std::size_t>(width) * height;
    const std::size_t scratch_n = static_cast<std::size_t>(width) + 2 * r + 1;
    GuardedArray<std::uint32_t> src(n), dst(n), scratch(scratch_n);
    for (std::size_t i = 0; i < n; ++i) src[i] = value(rng);
    std::vector<std::uint8_t> noise(n * 4);
    fill_noise(noise.data(), noise.size(), rng);
    std::vector<std::uint32_t> expected(n), ref_scratch(scratch_n);
    kernels::box_sum_scalar(src.data(), width, height, r, expected.data(), ref_scratch.data());
    const std::string what = std::string("box_sum ") + kind + " " + dims(width, height) +
                             " r=" + std::to_string(r);
    return paths_match(what, reinterpret_cast<const std::uint8_t*>(expected.data()),
                       reinterpret_cast<std::uint8_t*>(dst.data()), n * 4, noise, [&] {
                           fill_noise(scratch.data(), scratch_n * 4, rng);
                           kernels::box_sum(src.data(), width, height, r, dst.data(),
                                            scratch.data());
                       });
}

const int kSides[] = {1, 2, 3, 7, 8, 9, 16, 17, 33, 100, 257};

TEST(beauty_box_sum_matches_scalar_for_sizes_and_radii) {
    Rng rng(101);
    auto small = [](Rng& g) { return static_cast<std::uint32_t>(g.uniform_int(0, 4096)); };
    const int heights[] = {1, 2, 3, 7, 17, 33};
    for (int w : kSides)
        for (int h : heights)
            for (int r = 0; r <= 12; ++r)
                if (!box_sum_matches(w, h, r, rng, small, "u12")) return;
    report_compared("box sums");
}

TEST(beauty_box_sum_matches_scalar_for_large_radii_and_value_ranges) {
    Rng rng(102);
    auto small = [](Rng& g) { return static_cast<std::uint32_t>(g.uniform_int(0, 4096)); };
    auto squared = [](Rng& g) {
        const std::uint32_t v = g.byte();
        return v * v;
    };
    // Full 32-bit values: sums wrap modulo 2^32, identically in any order.
    auto wrapping = [](Rng& g) { return static_cast<std::uint32_t>(g.next()); };
    // Radii past the image side, both ways, and the guided filter's sizes.
    const int sizes[][3] = {{1, 1, 40}, {3, 2, 17}, {2, 9, 25}, {7, 3, 40}, {17, 5, 33},
                            {33, 33, 40}, {100, 7, 40}, {9, 100, 13}, {257, 17, 13},
                            {600, 9, 13}, {41, 70, 20}};
    for (const auto& s : sizes) {
        if (!box_sum_matches(s[0], s[1], s[2], rng, small, "u12")) return;
        if (!box_sum_matches(s[0], s[1], std::min(s[2], 12), rng, squared, "u8^2")) return;
        if (!box_sum_matches(s[0], s[1], s[2], rng, wrapping, "u32")) return;
    }
    for (int trial = 0; trial < 60; ++trial) {
        const int w = rng.uniform_int(1, 120), h = rng.uniform_int(1, 40);
        const int r = rng.uniform_int(0, 40);
        if (!box_sum_matches(w, h, r, rng, trial % 2 ? small : squared, "random")) return;
    }
    report_compared("box sums");
}

// ---- guided filter --------------------------------------------------------------------------

const std::size_t kCounts[] = {0, 1, 2, 3, 7, 8, 9, 15, 16, 17, 24, 25, 33, 100, 257, 1000};

bool coefficients_match(const std::vector<std::uint32_t>& si,
                        const std::vector<std::uint32_t>& sii, float inv_n, float eps, Rng& rng,
                        const std::string& kind) {
    const std::size_t n = si.size();
    GuardedArray<std::uint32_t> in_i(n), in_ii(n);
    std::copy(si.begin(), si.end(), in_i.data());
    std::copy(sii.begin(), sii.end(), in_ii.data());
    // Both outputs in one guarded buffer: a_q then b_q, compared as one.
    GuardedArray<std::uint32_t> got(2 * n);
    std::vector<std::uint32_t> expected(2 * n);
    kernels::guided_coefficients_scalar(si.data(), sii.data(), n, inv_n, eps, expected.data(),
                                        expected.data() + n);
    std::vector<std::uint8_t> noise(2 * n * 4);
    fill_noise(noise.data(), noise.size(), rng);
    const std::string what = "guided_coefficients " + kind + " count=" + std::to_string(n) +
                             " eps=" + std::to_string(eps);
    return paths_match(what, reinterpret_cast<const std::uint8_t*>(expected.data()),
                       reinterpret_cast<std::uint8_t*>(got.data()), 2 * n * 4, noise, [&] {
                           kernels::guided_coefficients(in_i.data(), in_ii.data(), n, inv_n, eps,
                                                        got.data(), got.data() + n);
                       });
}

TEST(beauty_guided_coefficients_match_scalar) {
    Rng rng(201);
    const float epsilons[] = {0.5f, 6.5025f, 100.0f, 650.25f, 16256.25f};
    for (std::size_t count : kCounts) {
        for (float eps : epsilons) {
            const int r = rng.uniform_int(1, 12);
            const std::uint32_t window = static_cast<std::uint32_t>((2 * r + 1) * (2 * r + 1));
            const float inv_n = 1.0f / static_cast<float>(window);
            // Consistent sums: windows of real pixel values (var >= 0 up to rounding).
            std::vector<std::uint32_t> si(count), sii(count);
            for (std::size_t i = 0; i < count; ++i) {
                const int centre = rng.uniform_int(0, 255), spread = rng.uniform_int(0, 60);
                std::uint32_t s = 0, ss = 0;
                for (std::uint32_t k = 0; k < window; ++k) {
                    const int v = std::clamp(centre + rng.uniform_int(-spread, spread), 0, 255);
                    s += static_cast<std::uint32_t>(v);
                    ss += static_cast<std::uint32_t>(v * v);
                }
                si[i] = s;
                sii[i] = ss;
            }
            if (!coefficients_match(si, sii, inv_n, eps, rng, "windows")) return;
            // Independent sums: negative variances clamp to 0.
            const int max_i = static_cast<int>(255 * window), max_ii = static_cast<int>(65025 * window);
            for (std::size_t i = 0; i < count; ++i) {
                si[i] = static_cast<std::uint32_t>(rng.uniform_int(0, max_i));
                sii[i] = static_cast<std::uint32_t>(rng.uniform_int(0, max_ii));
            }
            if (!coefficients_match(si, sii, inv_n, eps, rng, "independent")) return;
        }
    }
    // Sums from 2^31 up (the unsigned conversions' upper half), outputs still below 2^32.
    for (std::size_t count : kCounts) {
        std::vector<std::uint32_t> si(count), sii(count);
        for (std::size_t i = 0; i < count; ++i) {
            si[i] = static_cast<std::uint32_t>(rng.next() >> 32);
            sii[i] = static_cast<std::uint32_t>(rng.next() >> 32);
        }
        if (!coefficients_match(si, sii, 1.0f / 24.0f, 1.0f, rng, "full-range")) return;
    }
    report_compared("coefficient runs");
}

bool output_matches(std::size_t count, int pixel_stride, int out_stride,
                    const std::vector<std::uint32_t>& sa, const std::vector<std::uint32_t>& sb,
                    float inv_n, Rng& rng, const char* kind) {
    const std::size_t guide_bytes = count ? (count - 1) * pixel_stride + 1 : 0;
    const std::size_t out_bytes = count ? (count - 1) * out_stride + 1 : 0;
    GuardedArray<std::uint32_t> a(count), b(count);
    std::copy(sa.begin(), sa.end(), a.data());
    std::copy(sb.begin(), sb.end(), b.data());
    GuardedArray<std::uint8_t> guide(guide_bytes), got(out_bytes);
    fill_noise(guide.data(), guide_bytes, rng);
    std::vector<std::uint8_t> noise(out_bytes);
    fill_noise(noise.data(), out_bytes, rng);
    std::vector<std::uint8_t> expected = noise;
    kernels::guided_output_scalar(sa.data(), sb.data(), guide.data(), pixel_stride, count, inv_n,
                                  expected.data(), out_stride);
    const std::string what = std::string("guided_output ") + kind + " count=" +
                             std::to_string(count) + " strides " + std::to_string(pixel_stride) +
                             "/" + std::to_string(out_stride);
    return paths_match(what, expected.data(), got.data(), out_bytes, noise, [&] {
        kernels::guided_output(a.data(), b.data(), guide.data(), pixel_stride, count, inv_n,
                               got.data(), out_stride);
    });
}

TEST(beauty_guided_output_matches_scalar_for_strides_and_counts) {
    Rng rng(202);
    const int strides[] = {1, 2, 3, 4, 5};
    for (std::size_t count : kCounts) {
        for (int ps : strides) {
            for (int os : strides) {
                const int r = rng.uniform_int(1, 12);
                const int window = (2 * r + 1) * (2 * r + 1);
                const float inv_n = 1.0f / static_cast<float>(window);
                std::vector<std::uint32_t> sa(count), sb(count);
                // Window sums of a_q (0..4096) and b_q (0..4080): q spans 0..~510, clamped.
                for (std::size_t i = 0; i < count; ++i) {
                    sa[i] = static_cast<std::uint32_t>(rng.uniform_int(0, 4096 * window));
                    sb[i] = static_cast<std::uint32_t>(rng.uniform_int(0, 4080 * window));
                }
                if (!output_matches(count, ps, os, sa, sb, inv_n, rng, "random")) return;
                // Smooth regions: a ~ 0, b ~ mean; rounding lands near .5 often.
                for (std::size_t i = 0; i < count; ++i) {
                    sa[i] = static_cast<std::uint32_t>(rng.uniform_int(0, 8 * window));
                    sb[i] = static_cast<std::uint32_t>(16 * window * rng.uniform_int(0, 255) +
                                                       rng.uniform_int(0, 16 * window));
                }
                if (!output_matches(count, ps, os, sa, sb, inv_n, rng, "smooth")) return;
            }
        }
        // Full 32-bit sums (the unsigned conversion's upper half; q clamps to 255).
        std::vector<std::uint32_t> sa(count), sb(count);
        for (std::size_t i = 0; i < count; ++i) {
            sa[i] = static_cast<std::uint32_t>(rng.next() >> 32);
            sb[i] = static_cast<std::uint32_t>(rng.next() >> 32);
        }
        if (!output_matches(count, 3, 3, sa, sb, 1.0f / 6561.0f, rng, "full-range")) return;
        if (!output_matches(count, 1, 1, sa, sb, 1e-9f, rng, "full-range small")) return;
    }
    report_compared("guided outputs");
}

// ---- blend ----------------------------------------------------------------------------------

const std::size_t kPixelCounts[] = {0, 1, 2, 3, 7, 15, 16, 17, 31, 32, 33, 47, 100, 257, 1000};

enum class MaskKind { Zero, Full, Random, Binary };

bool blend_matches(std::size_t count, int channels, int weight, MaskKind mask_kind,
                   bool in_place, Rng& rng) {
    const std::size_t bytes = count * channels;
    GuardedArray<std::uint8_t> in(bytes), target(bytes), mask(count), out(bytes);
    fill_noise(in.data(), bytes, rng);
    fill_noise(target.data(), bytes, rng);
    for (std::size_t i = 0; i < count; ++i) {
        switch (mask_kind) {
            case MaskKind::Zero: mask[i] = 0; break;
            case MaskKind::Full: mask[i] = 255; break;
            case MaskKind::Random: mask[i] = rng.byte(); break;
            case MaskKind::Binary: mask[i] = rng.uniform_int(0, 1) ? 255 : 0; break;
        }
    }
    std::vector<std::uint8_t> expected(in.data(), in.data() + bytes);
    std::vector<std::uint8_t> noise(bytes);
    if (in_place) {
        noise = expected;  // out is in: each run starts from the input
        kernels::blend_scalar(expected.data(), target.data(), mask.data(), weight, count, channels,
                              expected.data());
    } else {
        fill_noise(noise.data(), bytes, rng);
        kernels::blend_scalar(in.data(), target.data(), mask.data(), weight, count, channels,
                              expected.data());
    }
    if (mask_kind == MaskKind::Zero || weight == 0)
        CHECK(same_bytes(expected.data(), in.data(), bytes));  // the reference's promise
    const std::string what = "blend count=" + std::to_string(count) + " channels=" +
                             std::to_string(channels) + " weight=" + std::to_string(weight) +
                             " mask " + std::to_string(static_cast<int>(mask_kind)) +
                             (in_place ? " in place" : "");
    std::uint8_t* dst = in_place ? in.data() : out.data();
    return paths_match(what, expected.data(), dst, bytes, noise, [&] {
        kernels::blend(in_place ? dst : in.data(), target.data(), mask.data(), weight, count,
                       channels, dst);
    });
}

TEST(beauty_blend_matches_scalar_for_masks_weights_and_channels) {
    Rng rng(301);
    const MaskKind masks[] = {MaskKind::Zero, MaskKind::Full, MaskKind::Random, MaskKind::Binary};
    for (std::size_t count : kPixelCounts)
        for (int channels : {1, 2, 3, 4})
            for (int weight : {0, 1, 128, 255, 256, rng.uniform_int(2, 254)})
                for (MaskKind mask : masks)
                    for (bool in_place : {false, true})
                        if (!blend_matches(count, channels, weight, mask, in_place, rng)) return;
    report_compared("blends");
}

TEST(beauty_blend_with_a_zero_mask_leaves_the_input_exact) {
    Rng rng(302);
    IsaRestorer restore;
    for (Isa isa : available_isas()) {
        force_isa(isa);
        for (int channels : {3, 4}) {
            const std::size_t count = 333;
            const std::size_t bytes = count * channels;
            std::vector<std::uint8_t> in(bytes), target(bytes), out(bytes);
            std::vector<std::uint8_t> mask(count, 0);
            fill_noise(in.data(), in.size(), rng);
            fill_noise(target.data(), target.size(), rng);
            for (int weight : {0, 1, 128, 256}) {
                kernels::blend(in.data(), target.data(), mask.data(), weight, count, channels,
                               out.data());
                CHECK_MSG(out == in, isa_name(isa) << " weight " << weight);
            }
            // A full mask at full weight: w = (255 * 256 + 128) >> 8 = 255, so each value moves
            // to the target but for (t - a) / 256 rounded.
            std::fill(mask.begin(), mask.end(), 255);
            kernels::blend(in.data(), target.data(), mask.data(), 256, count, channels, out.data());
            bool near = true;
            for (std::size_t i = 0; i < out.size(); ++i)
                near = near && std::abs(static_cast<int>(out[i]) - target[i]) <= 1;
            CHECK_MSG(near, isa_name(isa) << " full mask and weight");
        }
    }
}

// ---- remap_bilinear -------------------------------------------------------------------------

struct RemapImage {
    std::unique_ptr<Guarded> memory;
    const std::uint8_t* data;  // row 0
    int width, height, channels;
    std::ptrdiff_t stride;

    RemapImage(int w, int h, int c, int padding, bool bottom_up, bool flush_start, Rng& rng)
        : width(w), height(h), channels(c) {
        const std::ptrdiff_t row = static_cast<std::ptrdiff_t>(w) * c;
        const std::ptrdiff_t pitch = row + padding;
        const std::size_t span = static_cast<std::size_t>((h - 1) * pitch + row);
        memory = std::make_unique<Guarded>(span, flush_start);
        fill_noise(memory->bytes(), span, rng);
        stride = bottom_up ? -pitch : pitch;
        data = bottom_up ? memory->bytes() + (h - 1) * pitch : memory->bytes();
    }
};

// A coordinate along a side of `n` pixels: pixel centres, fractions (near 0 and 1 too), the
// edges, outside, far outside.
float coordinate(int n, Rng& rng) {
    switch (rng.uniform_int(0, 9)) {
        case 0: return static_cast<float>(rng.uniform_int(0, n - 1));          // centre
        case 1: return static_cast<float>(rng.uniform_int(0, n - 1)) + 0.5f;   // half
        case 2: return static_cast<float>(rng.uniform_int(0, n - 1)) + 0.99995f;  // fx = 2048
        case 3: return static_cast<float>(rng.uniform_int(0, n - 1)) + 1e-4f;  // fx = 0
        case 4: return static_cast<float>(n - 1);                               // last
        case 5: return static_cast<float>(rng.uniform(-3.0, 0.0));             // before
        case 6: return static_cast<float>(rng.uniform(n - 1, n + 3.0));        // after
        case 7: return rng.uniform_int(0, 1) ? 1e30f : -1e30f;                 // far
        case 8: return rng.uniform_int(0, 1) ? -0.0f : 0.0f;
        default: return static_cast<float>(rng.uniform(-0.5, n - 0.5));        // anywhere
    }
}

bool remap_matches(const RemapImage& img, std::size_t count, Rng& rng, bool centres_only,
                   const char* kind) {
    GuardedArray<float> pos(2 * count);
    for (std::size_t i = 0; i < count; ++i) {
        if (centres_only) {
            pos[2 * i] = static_cast<float>(rng.uniform_int(0, img.width - 1));
            pos[2 * i + 1] = static_cast<float>(rng.uniform_int(0, img.height - 1));
        } else {
            pos[2 * i] = coordinate(img.width, rng);
            pos[2 * i + 1] = coordinate(img.height, rng);
        }
    }
    const std::size_t bytes = count * img.channels;
    GuardedArray<std::uint8_t> got(bytes);
    std::vector<std::uint8_t> noise(bytes), expected(bytes);
    fill_noise(noise.data(), bytes, rng);
    kernels::remap_bilinear_scalar(img.data, img.width, img.height, img.stride, img.channels,
                                   pos.data(), count, expected.data());
    if (centres_only) {  // the reference's promise: centres copy pixels
        for (std::size_t i = 0; i < count; ++i) {
            const std::uint8_t* px = img.data +
                                     static_cast<std::ptrdiff_t>(pos[2 * i + 1]) * img.stride +
                                     static_cast<std::ptrdiff_t>(pos[2 * i]) * img.channels;
            CHECK(std::memcmp(px, &expected[i * img.channels], img.channels) == 0);
        }
    }
    const std::string what = std::string("remap ") + kind + " " + dims(img.width, img.height) +
                             "x" + std::to_string(img.channels) + " stride " +
                             std::to_string(img.stride) + " count=" + std::to_string(count);
    return paths_match(what, expected.data(), got.data(), bytes, noise, [&] {
        kernels::remap_bilinear(img.data, img.width, img.height, img.stride, img.channels,
                                pos.data(), count, got.data());
    });
}

TEST(beauty_remap_matches_scalar_for_sizes_channels_and_positions) {
    Rng rng(401);
    const int sizes[][2] = {{1, 1}, {2, 1}, {1, 2}, {2, 2}, {3, 3}, {7, 5}, {8, 3},
                            {17, 9}, {33, 17}, {100, 40}, {257, 3}};
    for (const auto& s : sizes)
        for (int channels : {1, 2, 3, 4}) {
            RemapImage img(s[0], s[1], channels, 0, false, false, rng);
            for (std::size_t count : {std::size_t{0}, std::size_t{1}, std::size_t{7},
                                      std::size_t{8}, std::size_t{9}, std::size_t{33},
                                      std::size_t{257}}) {
                if (!remap_matches(img, count, rng, false, "mixed")) return;
                if (!remap_matches(img, count, rng, true, "centres")) return;
            }
        }
    report_compared("remaps");
}

// Every position on a corner pixel or a quarter pixel inside it.
bool remap_corners_match(const RemapImage& img, Rng& rng) {
    const std::size_t count = 64;
    GuardedArray<float> pos(2 * count);
    for (std::size_t i = 0; i < count; ++i) {
        const float inside = rng.uniform_int(0, 1) ? 0.0f : 0.25f;
        const bool right = rng.uniform_int(0, 1) == 1, bottom = rng.uniform_int(0, 1) == 1;
        pos[2 * i] = right ? static_cast<float>(img.width - 1) - inside : inside;
        pos[2 * i + 1] = bottom ? static_cast<float>(img.height - 1) - inside : inside;
    }
    const std::size_t bytes = count * img.channels;
    std::vector<std::uint8_t> expected(bytes), noise(bytes);
    GuardedArray<std::uint8_t> got(bytes);
    fill_noise(noise.data(), bytes, rng);
    kernels::remap_bilinear_scalar(img.data, img.width, img.height, img.stride, img.channels,
                                   pos.data(), count, expected.data());
    const std::string what = "remap corners " + dims(img.width, img.height) + "x" +
                             std::to_string(img.channels) + " stride " + std::to_string(img.stride);
    return paths_match(what, expected.data(), got.data(), bytes, noise, [&] {
        kernels::remap_bilinear(img.data, img.width, img.height, img.stride, img.channels,
                                pos.data(), count, got.data());
    });
}

TEST(beauty_remap_matches_scalar_with_strides_and_reads_stay_inside_the_image) {
    // Guard pages flush against the image's first or last byte; positions on the first and
    // last pixels read the bytes next to them.
    Rng rng(402);
    const int sizes[][2] = {{1, 1}, {2, 1}, {3, 2}, {4, 4}, {9, 7}, {37, 29}};
    for (const auto& s : sizes)
        for (int channels : {1, 2, 3, 4})
            for (int padding : {0, 1, 5})
                for (bool bottom_up : {false, true})
                    for (bool flush_start : {false, true}) {
                        RemapImage img(s[0], s[1], channels, padding, bottom_up, flush_start, rng);
                        if (!remap_matches(img, 100, rng, false, "strided")) return;
                        if (!remap_corners_match(img, rng)) return;
                    }
    report_compared("remaps");
}

TEST(beauty_remap_matches_scalar_for_a_warp_field) {
    // The engine's use: every pixel of a region, displaced smoothly by up to a few pixels.
    Rng rng(403);
    for (int channels : {3, 4}) {
        RemapImage img(97, 61, channels, 0, false, false, rng);
        const std::size_t count = static_cast<std::size_t>(img.width) * img.height;
        GuardedArray<float> pos(2 * count);
        for (int y = 0; y < img.height; ++y)
            for (int x = 0; x < img.width; ++x) {
                const std::size_t i = static_cast<std::size_t>(y) * img.width + x;
                const float fx = static_cast<float>(x), fy = static_cast<float>(y);
                pos[2 * i] = fx + 3.0f * std::sin(0.1f * fy);
                pos[2 * i + 1] = fy + 2.5f * std::cos(0.13f * fx);
            }
        std::vector<std::uint8_t> expected(count * channels), noise(count * channels);
        GuardedArray<std::uint8_t> got(count * channels);
        fill_noise(noise.data(), noise.size(), rng);
        kernels::remap_bilinear_scalar(img.data, img.width, img.height, img.stride, channels,
                                       pos.data(), count, expected.data());
        if (!paths_match("remap warp field", expected.data(), got.data(), expected.size(), noise,
                         [&] {
                             kernels::remap_bilinear(img.data, img.width, img.height, img.stride,
                                                     channels, pos.data(), count, got.data());
                         }))
            return;
    }
    report_compared("remaps");
}

// ---- apply_table and lut3d ------------------------------------------------------------------

// Element counts around every block width (16, 32 and 64 bytes; 8 pixels) and a large odd one.
const std::size_t kLookupCounts[] = {0,  1,  2,  3,  7,  8,  9,  15, 16,   17,
                                     31, 32, 33, 47, 63, 64, 65, 1000, 100003};

enum class Values { Random, Zero, Full, Extremes, Ramp };

const char* values_name(Values kind) {
    switch (kind) {
        case Values::Random: return "random";
        case Values::Zero: return "zeros";
        case Values::Full: return "255s";
        case Values::Extremes: return "extremes";
        default: return "ramp";
    }
}

// Extremes: 0, 1, 254 or 255 each; ramp: every value in turn.
void fill_values(std::uint8_t* p, std::size_t n, Values kind, Rng& rng) {
    static const std::uint8_t extremes[] = {0, 1, 254, 255};
    for (std::size_t i = 0; i < n; ++i) {
        switch (kind) {
            case Values::Random: p[i] = rng.byte(); break;
            case Values::Zero: p[i] = 0; break;
            case Values::Full: p[i] = 255; break;
            case Values::Extremes: p[i] = extremes[rng.uniform_int(0, 3)]; break;
            case Values::Ramp: p[i] = static_cast<std::uint8_t>(i * 7 + i / 256); break;
        }
    }
}

const Values kValueKinds[] = {Values::Random, Values::Zero, Values::Full, Values::Extremes,
                              Values::Ramp};

// Compares apply_table on `count` bytes; the table, input and output are guarded.
bool table_matches(std::size_t count, const std::uint8_t* table, const char* table_kind,
                   Values kind, bool in_place, Rng& rng) {
    GuardedArray<std::uint8_t> tab(256), in(count), out(count);
    std::memcpy(tab.data(), table, 256);
    fill_values(in.data(), count, kind, rng);
    std::vector<std::uint8_t> expected(count), noise(count);
    kernels::apply_table_scalar(in.data(), count, tab.data(), expected.data());
    for (std::size_t i = 0; i < count; ++i) CHECK(expected[i] == table[in[i]]);
    if (in_place)
        copy_bytes(noise.data(), in.data(), count);  // out is in: each run starts from the input
    else
        fill_noise(noise.data(), count, rng);
    std::uint8_t* dst = in_place ? in.data() : out.data();
    const std::string what = std::string("apply_table ") + table_kind + " table, " +
                             values_name(kind) + " count=" + std::to_string(count) +
                             (in_place ? " in place" : "");
    return paths_match(what, expected.data(), dst, count, noise, [&] {
        kernels::apply_table(in_place ? dst : in.data(), count, tab.data(), dst);
    });
}

TEST(beauty_apply_table_matches_scalar_for_tables_counts_and_values) {
    Rng rng(501);
    std::uint8_t random[256], identity[256], inverted[256], spike[256];
    for (int i = 0; i < 256; ++i) {
        random[i] = rng.byte();
        identity[i] = static_cast<std::uint8_t>(i);
        inverted[i] = static_cast<std::uint8_t>(255 - i);
        spike[i] = 0;
    }
    spike[rng.uniform_int(0, 255)] = 255;
    const std::pair<const std::uint8_t*, const char*> tables[] = {
        {random, "random"}, {identity, "identity"}, {inverted, "inverted"}, {spike, "spike"}};
    for (const auto& table : tables)
        for (std::size_t count : kLookupCounts)
            for (Values kind : kValueKinds)
                for (bool in_place : {false, true})
                    if (!table_matches(count, table.first, table.second, kind, in_place, rng))
                        return;
    // Every (table row, input) combination: all 256 values under 50 random tables.
    for (int trial = 0; trial < 50; ++trial) {
        for (std::uint8_t& t : random) t = rng.byte();
        if (!table_matches(256 * 3 + 5, random, "random", Values::Ramp, false, rng)) return;
    }
    report_compared("table lookups");
}

// ---- mask_product ---------------------------------------------------------------------------

// Compares mask_product on `count` bytes (a and b guarded; out separate or a itself).
bool product_matches(std::size_t count, Values kind_a, Values kind_b, bool in_place, Rng& rng) {
    GuardedArray<std::uint8_t> a(count), b(count), out(count);
    fill_values(a.data(), count, kind_a, rng);
    fill_values(b.data(), count, kind_b, rng);
    std::vector<std::uint8_t> expected(count), noise(count);
    kernels::mask_product_scalar(a.data(), b.data(), count, expected.data());
    for (std::size_t i = 0; i < count; ++i)  // the contract, independently: round(a b / 255)
        CHECK(expected[i] == static_cast<std::uint8_t>(std::lround(a[i] * b[i] / 255.0)));
    if (in_place)
        copy_bytes(noise.data(), a.data(), count);  // out is a: each run starts from a
    else
        fill_noise(noise.data(), count, rng);
    std::uint8_t* dst = in_place ? a.data() : out.data();
    const std::string what = std::string("mask_product ") + values_name(kind_a) + " x " +
                             values_name(kind_b) + " count=" + std::to_string(count) +
                             (in_place ? " in place" : "");
    return paths_match(what, expected.data(), dst, count, noise, [&] {
        kernels::mask_product(in_place ? dst : a.data(), b.data(), count, dst);
    });
}

TEST(beauty_mask_product_matches_scalar_for_counts_values_and_every_pair) {
    Rng rng(611);
    for (std::size_t count : kLookupCounts)
        for (Values kind_a : kValueKinds)
            for (Values kind_b : {Values::Random, Values::Extremes, Values::Full})
                for (bool in_place : {false, true})
                    if (!product_matches(count, kind_a, kind_b, in_place, rng)) return;
    // Every (a, b) pair, at an odd count so the tail runs too.
    const std::size_t count = 65536 + 7;
    GuardedArray<std::uint8_t> a(count), b(count), out(count);
    for (std::size_t i = 0; i < count; ++i) {
        a[i] = static_cast<std::uint8_t>(i & 255);
        b[i] = static_cast<std::uint8_t>((i >> 8) & 255);
    }
    std::vector<std::uint8_t> expected(count), noise(count);
    kernels::mask_product_scalar(a.data(), b.data(), count, expected.data());
    fill_noise(noise.data(), count, rng);
    if (!paths_match("mask_product every pair", expected.data(), out.data(), count, noise,
                     [&] { kernels::mask_product(a.data(), b.data(), count, out.data()); }))
        return;
    report_compared("mask products");
}

// ---- skin_likelihood ------------------------------------------------------------------------

// Compares skin_likelihood on `count` RGB pixels (inputs guarded; both outputs in one guarded
// buffer: likelihood, then colour) under model `m`.
bool likelihood_matches(std::size_t count, Values kind, const kernels::SkinColour& m, Rng& rng) {
    GuardedArray<std::uint8_t> rgb(3 * count), face(count), out(2 * count);
    fill_values(rgb.data(), 3 * count, kind, rng);
    fill_values(face.data(), count, kind == Values::Ramp ? Values::Random : kind, rng);
    std::vector<std::uint8_t> expected(2 * count), noise(2 * count);
    kernels::skin_likelihood_scalar(rgb.data(), face.data(), count, m, expected.data(),
                                    expected.data() + count);
    fill_noise(noise.data(), noise.size(), rng);
    const std::string what = std::string("skin_likelihood ") + values_name(kind) +
                             " count=" + std::to_string(count);
    return paths_match(what, expected.data(), out.data(), 2 * count, noise, [&] {
        kernels::skin_likelihood(rgb.data(), face.data(), count, m, out.data(), out.data() + count);
    });
}

TEST(beauty_skin_likelihood_matches_scalar_for_counts_values_and_models) {
    Rng rng(733);
    // The contract on one pixel: the model's own colour, inside the face and bright, is skin.
    const std::uint8_t skin[3] = {180, 120, 90}, inside = 255;
    kernels::SkinColour m{};
    m.r = std::floor(180.0f * (255.0f / 390.0f) + 0.5f), m.g = std::floor(120.0f * (255.0f / 390.0f) + 0.5f);
    m.scale_r = 1.0f / 5.0f, m.scale_g = 1.0f / 4.0f;
    m.zero_in = 5.0f, m.ramp_in = 0.5f, m.zero_out = 8.0f, m.ramp_out = 1.0f / 3.0f;
    m.dark_lo = 20.0f, m.dark_ramp = 1.0f / 20.0f;
    std::uint8_t like = 0, colour = 0;
    kernels::skin_likelihood_scalar(skin, &inside, 1, m, &like, &colour);
    CHECK(like == 255 && colour == 255);
    for (int trial = 0; trial < 6; ++trial) {
        m.r = static_cast<float>(rng.uniform_int(60, 140));
        m.g = static_cast<float>(rng.uniform_int(50, 110));
        m.scale_r = 1.0f / static_cast<float>(rng.uniform_int(1, 12));
        m.scale_g = 1.0f / static_cast<float>(rng.uniform_int(1, 12));
        m.dark_lo = static_cast<float>(rng.uniform_int(0, 60));
        m.dark_ramp = 1.0f / static_cast<float>(rng.uniform_int(1, 60));
        for (std::size_t count : kLookupCounts)
            for (Values kind : kValueKinds)
                if (!likelihood_matches(count, kind, m, rng)) return;
    }
    report_compared("skin likelihoods");
}

enum class LutKind { Random, Identity };

// round(255 i / (size - 1)), halves up.
std::uint8_t identity_entry(int i, int size) {
    return static_cast<std::uint8_t>((2 * 255 * i + (size - 1)) / (2 * (size - 1)));
}

// A size^3 RGB LUT (red fastest) in guarded memory, flush against the guard page after it, or
// (flush_start) before it: a read past either end faults.
struct GuardedLut {
    std::unique_ptr<Guarded> memory;
    int size;
    LutKind kind;

    GuardedLut(int side, LutKind k, bool flush_start, Rng& rng) : size(side), kind(k) {
        const std::size_t entries = static_cast<std::size_t>(side) * side * side;
        memory = std::make_unique<Guarded>(entries * 3, flush_start);
        std::uint8_t* p = memory->bytes();
        if (kind == LutKind::Random) {
            std::size_t i = 0;
            for (; i + 8 <= entries * 3; i += 8) {
                const std::uint64_t x = rng.next();
                std::memcpy(p + i, &x, 8);
            }
            for (; i < entries * 3; ++i) p[i] = rng.byte();
            return;
        }
        for (int b = 0; b < side; ++b)
            for (int g = 0; g < side; ++g)
                for (int r = 0; r < side; ++r) {
                    std::uint8_t* e = p + ((static_cast<std::size_t>(b) * side + g) * side + r) * 3;
                    e[0] = identity_entry(r, side);
                    e[1] = identity_entry(g, side);
                    e[2] = identity_entry(b, side);
                }
    }
    const std::uint8_t* data() const { return memory->bytes(); }
    std::string name() const {
        return std::string(kind == LutKind::Random ? "random" : "identity") + " size " +
               std::to_string(size);
    }
};

// Compares lut3d on `count` pixels of `in` (3 count bytes; input and output guarded).
bool lut3d_matches(const GuardedLut& lut, const std::uint8_t* pixels, std::size_t count,
                   const char* values, bool in_place, Rng& rng) {
    const std::size_t bytes = 3 * count;
    GuardedArray<std::uint8_t> in(bytes), out(bytes);
    copy_bytes(in.data(), pixels, bytes);
    std::vector<std::uint8_t> expected(bytes), noise(bytes);
    kernels::lut3d_scalar(in.data(), count, lut.data(), lut.size, expected.data());
    if (lut.kind == LutKind::Identity) {  // the reference's property: the input within +-1
        bool near = true;
        for (std::size_t i = 0; i < bytes && near; ++i)
            near = std::abs(static_cast<int>(expected[i]) - in[i]) <= 1;
        CHECK_MSG(near, "identity " << lut.name() << " moved a value by more than 1");
    }
    if (in_place)
        copy_bytes(noise.data(), in.data(), bytes);
    else
        fill_noise(noise.data(), bytes, rng);
    std::uint8_t* dst = in_place ? in.data() : out.data();
    const std::string what = "lut3d " + lut.name() + ", " + values + " count=" +
                             std::to_string(count) + (in_place ? " in place" : "");
    return paths_match(what, expected.data(), dst, bytes, noise, [&] {
        kernels::lut3d(in_place ? dst : in.data(), count, lut.data(), lut.size, dst);
    });
}

const int kLutSizes[] = {2, 3, 17, 33, 64, 256};

TEST(beauty_lut3d_matches_scalar_for_sizes_counts_and_values) {
    Rng rng(601);
    std::vector<std::uint8_t> pixels;
    for (int size : kLutSizes) {
        // Random entries against either guard page, and the identity.
        const GuardedLut luts[] = {GuardedLut(size, LutKind::Random, false, rng),
                                   GuardedLut(size, LutKind::Random, true, rng),
                                   GuardedLut(size, LutKind::Identity, false, rng)};
        for (const GuardedLut& lut : luts)
            for (std::size_t count : kLookupCounts)
                for (Values kind : kValueKinds) {
                    // The largest count once per LUT (random values), in place for half the runs.
                    if (count > 1000 && kind != Values::Random) continue;
                    pixels.resize(3 * count);
                    fill_values(pixels.data(), pixels.size(), kind, rng);
                    const bool in_place = (count + static_cast<std::size_t>(kind)) % 2 == 1;
                    if (!lut3d_matches(lut, pixels.data(), count, values_name(kind), in_place, rng))
                        return;
                }
    }
    report_compared("3D LUT runs");
}

TEST(beauty_lut3d_identity_reproduces_the_input_within_one) {
    // Every value in every channel, against each other value order, through the identity LUT of
    // each size: the reference moves nothing by more than 1, and every path equals it.
    Rng rng(602);
    for (int size : kLutSizes) {
        const GuardedLut lut(size, LutKind::Identity, size % 2 == 1, rng);
        std::vector<std::uint8_t> pixels;
        for (int v = 0; v < 256; ++v) {
            const std::uint8_t a = static_cast<std::uint8_t>(v);
            const std::uint8_t b = static_cast<std::uint8_t>(255 - v);
            const std::uint8_t c = static_cast<std::uint8_t>(v * 97 + 13);
            for (std::uint8_t x : {a, a, a, a, b, c, c, a, b, a, b, b}) pixels.push_back(x);
        }
        for (int i = 0; i < 3000; ++i) pixels.push_back(rng.byte());
        const std::size_t count = pixels.size() / 3;
        std::vector<std::uint8_t> got(pixels.size());
        kernels::lut3d_scalar(pixels.data(), count, lut.data(), size, got.data());
        int worst = 0;
        for (std::size_t i = 0; i < pixels.size(); ++i)
            worst = std::max(worst, std::abs(static_cast<int>(got[i]) - pixels[i]));
        CHECK_MSG(worst <= 1, "identity LUT size " << size << " moved a value by " << worst);
        // The ends exactly: 0 and 255 are entries of every identity LUT.
        for (std::size_t i = 0; i < pixels.size(); ++i)
            if (pixels[i] == 0 || pixels[i] == 255) CHECK(got[i] == pixels[i]);
        if (!lut3d_matches(lut, pixels.data(), count, "all values", false, rng)) return;
    }
    report_compared("identity LUT runs");
}

// ---- which path runs ------------------------------------------------------------------------

TEST(beauty_kernels_default_path_is_the_best_available) {
    // Without FACEKIT_SIMD the dispatchers run the fastest path here (avx2 or neon where built).
    if (isa_forced_by_environment()) {
        std::printf("  FACEKIT_SIMD chose %s; the default-path check needs it unset\n",
                    isa_name(active_isa()));
        return;
    }
    const Isa best = available_isas().back();
    IsaRestorer restore;
    force_isa(best);
    const std::uint64_t before = kernel_calls(best);
    std::vector<std::uint32_t> plane(64 * 9, 7), sums(64 * 9), scratch(64 + 2 * 3 + 1);
    kernels::box_sum(plane.data(), 64, 9, 3, sums.data(), scratch.data());
    CHECK(sums[0] == 7u * 49u);
    std::vector<std::uint8_t> px(64 * 3, 10), tgt(64 * 3, 20), mask(64, 255), out(64 * 3);
    kernels::blend(px.data(), tgt.data(), mask.data(), 256, 64, 3, out.data());
    CHECK(out == std::vector<std::uint8_t>(64 * 3, 20));  // 10 + ((10 * 255 + 128) >> 8)
    std::printf("  %s path ran %" PRIu64 " beauty kernel calls\n", isa_name(best),
                kernel_calls(best) - before);
    CHECK(kernel_calls(best) - before == 2);
#if defined(__aarch64__)
    CHECK(best == Isa::Neon);
#elif defined(__x86_64__)
    if (cpu_features().avx2) CHECK(best == Isa::Avx2);
#endif
}

}  // namespace
