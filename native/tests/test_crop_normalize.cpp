// Tests of the fused crop + normalize kernel: every SIMD path against the scalar reference, bit
// for bit, over formats, sizes, strides, borders and geometry; properties of the reference
// itself; and argument validation of the public crop_normalize.
#include <algorithm>
#include <cinttypes>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <limits>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include <sys/mman.h>
#include <unistd.h>

#include "check.h"
#include "facekit/dispatch.h"
#include "facekit/warp.h"
#include "kernels/kernels.h"

using facekit::testing::Rng;

namespace {

using facekit::testing::g_compared;
using facekit::testing::report_compared;

using namespace facekit;

constexpr double kPi = 3.14159265358979323846;
constexpr PixelFormat kFormats[] = {PixelFormat::Gray, PixelFormat::RGB, PixelFormat::BGR,
                                    PixelFormat::RGBA, PixelFormat::BGRA};
constexpr Border kBorders[] = {Border::Zero, Border::Clamp};

const char* format_name(PixelFormat f) {
    switch (f) {
        case PixelFormat::Gray: return "gray";
        case PixelFormat::RGB: return "rgb";
        case PixelFormat::BGR: return "bgr";
        case PixelFormat::RGBA: return "rgba";
        case PixelFormat::BGRA: return "bgra";
    }
    return "?";
}


struct ImageSpec {
    int width, height;
    PixelFormat format;
    int padding = 0;         // bytes between rows beyond the packed row
    bool bottom_up = false;  // negative stride: data points at the top row, stored last
    bool flush_start = false;
};

// A test image with random contents (padding bytes included) in guarded memory.
struct TestImage {
    std::unique_ptr<facekit::testing::Guarded> memory;
    ImageView view;

    TestImage(const ImageSpec& spec, Rng& rng) {
        const int bpp = bytes_per_pixel(spec.format);
        const std::ptrdiff_t row_bytes = static_cast<std::ptrdiff_t>(spec.width) * bpp;
        const std::ptrdiff_t pitch = row_bytes + spec.padding;
        // The last row in memory ends at its last pixel: nothing after it may be read.
        const std::size_t span = static_cast<std::size_t>((spec.height - 1) * pitch + row_bytes);
        memory = std::make_unique<facekit::testing::Guarded>(span, spec.flush_start);
        std::uint8_t* first = memory->bytes();
        for (std::size_t i = 0; i < span; ++i) first[i] = rng.byte();
        view.width = spec.width;
        view.height = spec.height;
        view.format = spec.format;
        view.stride = spec.bottom_up ? -pitch : pitch;
        view.data = spec.bottom_up ? first + (spec.height - 1) * pitch : first;
    }
    std::uint8_t* pixel(int x, int y) {
        return const_cast<std::uint8_t*>(view.data) + y * view.stride +
               static_cast<std::ptrdiff_t>(x) * bytes_per_pixel(view.format);
    }
};

// Switches paths within a test and puts back the one that was active before.
struct IsaRestorer {
    Isa saved = active_isa();
    ~IsaRestorer() { force_isa(saved); }
};

CropNormalize make_params(const Affine& t, int out_width, int out_height, Border border, Rng& rng) {
    CropNormalize p{};
    p.transform = t;
    p.out_width = out_width;
    p.out_height = out_height;
    p.border = border;
    for (int c = 0; c < 3; ++c) {
        p.scale[c] = static_cast<float>(rng.uniform(-0.05, 0.05));
        p.offset[c] = static_cast<float>(rng.uniform(-3.0, 3.0));
    }
    return p;
}

// A rotated rect around the image, often straddling an edge.
RotatedRect random_rect(const ImageView& img, Rng& rng) {
    const double side = std::max(img.width, img.height);
    return RotatedRect{rng.uniform(-0.3, 1.3) * img.width, rng.uniform(-0.3, 1.3) * img.height,
                       rng.uniform(0.2, 1.5) * side + 1.0, rng.uniform(0.2, 1.5) * side + 1.0,
                       rng.uniform(-kPi, kPi)};
}

std::size_t output_floats(const CropNormalize& p) {
    return static_cast<std::size_t>(p.out_width) * p.out_height * 3;
}

std::string describe(const ImageView& src, const CropNormalize& p) {
    char buf[256];
    std::snprintf(buf, sizeof buf,
                  "%s %dx%d stride %td -> %dx%d %s border, m = [%.9g %.9g %.9g; %.9g %.9g %.9g]",
                  format_name(src.format), src.width, src.height, src.stride, p.out_width,
                  p.out_height, p.border == Border::Zero ? "zero" : "clamp", p.transform.m[0],
                  p.transform.m[1], p.transform.m[2], p.transform.m[3], p.transform.m[4],
                  p.transform.m[5]);
    return buf;
}

// A float printed with enough digits to tell neighbouring values apart.
std::string exact(float v) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.9g", static_cast<double>(v));
    return buf;
}


// Runs every available path through the public crop_normalize and requires each to write
// exactly the scalar reference's bits. Returns false on the first mismatching path.
bool paths_match_scalar(const ImageView& src, const CropNormalize& p) {
    const std::size_t n = output_floats(p);
    std::vector<float> ref(n), got(n);
    kernels::crop_normalize_scalar(src, p, ref.data());
    IsaRestorer restore;
    for (Isa isa : available_isas()) {
        force_isa(isa);
        std::fill(got.begin(), got.end(), std::numeric_limits<float>::quiet_NaN());  // unwritten
        const std::uint64_t calls = kernel_calls(isa);
        crop_normalize(src, p, got.data());
        CHECK_MSG(kernel_calls(isa) == calls + 1, isa_name(isa) << " kernel did not run");
        if (std::memcmp(ref.data(), got.data(), n * sizeof(float)) == 0) continue;
        std::size_t first = n;
        double max_diff = 0.0;
        for (std::size_t i = 0; i < n; ++i) {
            if (std::memcmp(&ref[i], &got[i], sizeof(float)) == 0) continue;
            if (first == n) first = i;
            max_diff = std::max(max_diff, std::fabs(static_cast<double>(ref[i]) - got[i]));
        }
        const std::size_t pixel = first / 3;
        CHECK_MSG(false, isa_name(isa) << " differs from scalar for " << describe(src, p)
                                       << ": first at x=" << pixel % p.out_width
                                       << " y=" << pixel / p.out_width << " c=" << first % 3
                                       << " (" << exact(got[first]) << " vs "
                                       << exact(ref[first]) << "), max abs diff " << max_diff);
        return false;
    }
    ++g_compared;
    return true;
}

Affine translation(double dx, double dy) { return Affine{{1, 0, dx, 0, 1, dy}}; }

}  // namespace

TEST(crop_normalize_simd_matches_scalar_for_every_format_border_and_size) {
    Rng rng(1);
    const int sources[][2] = {{1, 1}, {2, 3}, {3, 2}, {37, 29}, {101, 67}};
    const int outputs[][2] = {{1, 1}, {3, 2}, {7, 3}, {8, 2}, {9, 1}, {17, 5}, {33, 3}, {191, 2}};
    for (PixelFormat format : kFormats) {
        for (const auto& s : sources) {
            TestImage img({s[0], s[1], format}, rng);
            for (Border border : kBorders) {
                for (const auto& o : outputs) {
                    const Affine t = rect_to_affine(random_rect(img.view, rng), o[0], o[1]);
                    const CropNormalize p = make_params(t, o[0], o[1], border, rng);
                    if (!paths_match_scalar(img.view, p)) return;
                }
            }
        }
    }
    report_compared("crops");
}

TEST(crop_normalize_simd_matches_scalar_with_padded_and_bottom_up_strides) {
    Rng rng(2);
    const int sources[][2] = {{1, 1}, {2, 3}, {37, 29}, {64, 1}, {1, 64}, {5, 40}};
    const int paddings[] = {0, 1, 5, 64};
    for (PixelFormat format : kFormats) {
        for (const auto& s : sources) {
            for (int padding : paddings) {
                for (bool bottom_up : {false, true}) {
                    TestImage img({s[0], s[1], format, padding, bottom_up}, rng);
                    for (Border border : kBorders) {
                        for (int trial = 0; trial < 3; ++trial) {
                            const int w = rng.uniform_int(1, 40), h = rng.uniform_int(1, 9);
                            const Affine t = rect_to_affine(random_rect(img.view, rng), w, h);
                            if (!paths_match_scalar(img.view, make_params(t, w, h, border, rng)))
                                return;
                        }
                    }
                }
            }
        }
    }
    report_compared("crops");
}

TEST(crop_normalize_simd_matches_scalar_for_rotated_rects_inside_straddling_and_outside) {
    Rng rng(3);
    const double angles[] = {0.0, 0.1, kPi / 6, kPi / 4, kPi / 2, 2.5, kPi, -1.3, 4.0};
    for (PixelFormat format : {PixelFormat::RGB, PixelFormat::BGRA, PixelFormat::Gray}) {
        TestImage img({101, 67, format, 3, format == PixelFormat::BGRA}, rng);
        const double w = img.view.width, h = img.view.height;
        // centre x, centre y, rect width, rect height: inside, across each edge and corner, a
        // rect holding the whole image, a magnified tiny one, and two wholly outside.
        const double rects[][4] = {{w / 2, h / 2, 40, 30},   {0, h / 2, 40, 40},
                                   {w, h / 2, 40, 40},       {w / 2, 0, 30, 50},
                                   {w / 2, h, 30, 50},       {0, 0, 50, 50},
                                   {w, h, 50, 50},           {w / 2, h / 2, 3 * w, 3 * h},
                                   {w / 3, h / 3, 2.5, 1.5}, {-200, h / 2, 40, 40},
                                   {w + 80, h + 90, 30, 30}};
        for (double angle : angles) {
            for (const auto& r : rects) {
                for (Border border : kBorders) {
                    const int ow = rng.uniform_int(1, 70), oh = rng.uniform_int(1, 12);
                    const Affine t = rect_to_affine({r[0], r[1], r[2], r[3], angle}, ow, oh);
                    if (!paths_match_scalar(img.view, make_params(t, ow, oh, border, rng))) return;
                }
            }
        }
        // The sizes the networks use.
        for (int side : {192, 128}) {
            for (Border border : kBorders) {
                const Affine t = rect_to_affine({w * 0.55, h * 0.45, 70, 70, 0.4}, side, side);
                if (!paths_match_scalar(img.view, make_params(t, side, side, border, rng))) return;
            }
        }
    }
    report_compared("crops");
}

TEST(crop_normalize_simd_matches_scalar_for_random_affines) {
    Rng rng(4);
    for (int trial = 0; trial < 400; ++trial) {
        ImageSpec spec{rng.uniform_int(1, 80), rng.uniform_int(1, 60),
                       kFormats[rng.uniform_int(0, 4)]};
        spec.padding = rng.uniform_int(0, 2) == 0 ? rng.uniform_int(1, 17) : 0;
        spec.bottom_up = rng.uniform_int(0, 1) == 1;
        TestImage img(spec, rng);
        Affine t;
        for (int i : {0, 1, 3, 4}) t.m[i] = rng.uniform(-3.0, 3.0);
        t.m[2] = rng.uniform(-50.0, spec.width + 50.0);
        t.m[5] = rng.uniform(-50.0, spec.height + 50.0);
        const int ow = rng.uniform_int(1, 67), oh = rng.uniform_int(1, 7);
        const Border border = kBorders[rng.uniform_int(0, 1)];
        if (!paths_match_scalar(img.view, make_params(t, ow, oh, border, rng))) return;
    }
    report_compared("affines");
}

TEST(crop_normalize_simd_matches_scalar_at_exact_edge_and_extreme_coordinates) {
    Rng rng(5);
    for (PixelFormat format : kFormats) {
        TestImage img({13, 11, format, 2, format == PixelFormat::RGB}, rng);
        const double w = img.view.width, h = img.view.height;
        const Affine transforms[] = {
            translation(0, 0),                      // integer samples, last column x0 = W-1
            translation(-1e-6, -1e-6),              // floors to -1 with weight ~1
            translation(-0.5, -0.5),                // half pixels across the top-left edge
            translation(-1, -1),                    // exactly one pixel outside
            translation(w - 1, h - 1),              // starts at the last pixel
            translation(w - 1.5, h - 1.5),          // between the last pixel and the outside
            Affine{{0, 0, w - 1, 0, 0, h - 1}},     // every sample on the last pixel
            Affine{{0.25, 0, -2, 0, 0.25, -2}},     // magnified across the corner
            Affine{{-1, 0, w, 0, -1, h}},           // mirrored
            Affine{{1, 0, 4e6, 0, 1, -4e6}},        // near the coordinate limit
            Affine{{1e-3, 0, -4e6, 1e-3, 0, 4e6}},  // tiny steps far away
            Affine{{3, 0.5, 5, -0.5, 3, 5}},        // minified, strides past the image
        };
        for (const Affine& t : transforms) {
            for (Border border : kBorders) {
                for (int ow : {1, 4, 8, 15, 16, 19}) {
                    if (!paths_match_scalar(img.view, make_params(t, ow, 3, border, rng))) return;
                }
            }
        }
    }
    report_compared("crops");
}

TEST(crop_normalize_reads_stay_inside_image_memory) {
    // Guard pages sit flush against the first or last byte of each image; every sample here
    // touches the image's first or last pixel, where a 4-byte read of a 1- or 3-byte pixel
    // would cross into the guard page.
    Rng rng(6);
    const int sources[][2] = {{1, 1}, {1, 2}, {2, 1}, {2, 2}, {3, 1},
                              {1, 5}, {4, 3}, {5, 2}, {9, 7}};
    for (PixelFormat format : kFormats) {
        for (const auto& s : sources) {
            for (bool bottom_up : {false, true}) {
                for (bool flush_start : {false, true}) {
                    const int padding = bottom_up ? 3 : 0;
                    TestImage img({s[0], s[1], format, padding, bottom_up, flush_start}, rng);
                    const double w = s[0], h = s[1];
                    const Affine corners[] = {
                        Affine{{0, 0, w - 1, 0, 0, h - 1}},       // the last pixel
                        Affine{{0.37, 0, w - 2, 0.21, 0, h - 2}},  // around the last pixel
                        Affine{{0, 0, 0, 0, 0, 0}},                // the first pixel
                        Affine{{0.37, 0, -1, 0.21, 0, -1}},        // around the first pixel
                        Affine{{0, 0, w + 5, 0, 0, h + 5}},        // beyond the last pixel
                    };
                    std::vector<Affine> transforms(std::begin(corners), std::end(corners));
                    // Whole blocks whose 2x2 neighbourhoods sit d + 1 pixels from the right edge
                    // of the top and of the bottom row pair: wide multi-pixel loads from there
                    // must stop at the row's end.
                    for (int d = 0; d <= 4; ++d) {
                        transforms.push_back(Affine{{0, 0, w - d - 1.5, 0, 0, 0.5}});
                        transforms.push_back(Affine{{0, 0, w - d - 1.5, 0, 0, h - 1.5}});
                    }
                    for (const Affine& t : transforms) {
                        for (Border border : kBorders) {
                            if (!paths_match_scalar(img.view, make_params(t, 17, 2, border, rng)))
                                return;
                        }
                    }
                }
            }
        }
    }
    report_compared("crops");
}

TEST(crop_normalize_identity_transform_reproduces_pixels) {
    Rng rng(7);
    IsaRestorer restore;
    for (PixelFormat format : kFormats) {
        TestImage img({29, 7, format, 4}, rng);
        const ChannelMap map = rgb_channel_map(format);
        const int channel[3] = {map.r, map.g, map.b};
        for (Border border : kBorders) {
            CropNormalize p{translation(0, 0), 29, 7, {1, 1, 1}, {0, 0, 0}, border};
            for (Isa isa : available_isas()) {
                force_isa(isa);
                std::vector<float> out(output_floats(p));
                crop_normalize(img.view, p, out.data());
                int bad = 0;
                for (int y = 0; y < 7; ++y)
                    for (int x = 0; x < 29; ++x)
                        for (int c = 0; c < 3; ++c)
                            bad += out[(y * 29 + x) * 3 + c] != img.pixel(x, y)[channel[c]];
                CHECK_MSG(bad == 0, isa_name(isa) << " " << format_name(format) << ": " << bad
                                                  << " values differ from the source pixels");
            }
        }
    }
}

TEST(crop_normalize_bgr_and_alpha_formats_match_the_equivalent_rgb_image) {
    Rng rng(8);
    const int w = 45, h = 31;
    TestImage rgb({w, h, PixelFormat::RGB}, rng);
    for (PixelFormat format : {PixelFormat::BGR, PixelFormat::RGBA, PixelFormat::BGRA}) {
        TestImage other({w, h, format, 7}, rng);  // alpha and padding stay random
        const ChannelMap map = rgb_channel_map(format);
        for (int y = 0; y < h; ++y) {
            for (int x = 0; x < w; ++x) {
                other.pixel(x, y)[map.r] = rgb.pixel(x, y)[0];
                other.pixel(x, y)[map.g] = rgb.pixel(x, y)[1];
                other.pixel(x, y)[map.b] = rgb.pixel(x, y)[2];
            }
        }
        for (Border border : kBorders) {
            const CropNormalize p =
                make_params(rect_to_affine({20, 18, 40, 30, 0.7}, 37, 23), 37, 23, border, rng);
            std::vector<float> expected(output_floats(p)), got(output_floats(p));
            kernels::crop_normalize_scalar(rgb.view, p, expected.data());
            kernels::crop_normalize_scalar(other.view, p, got.data());
            CHECK_MSG(std::memcmp(expected.data(), got.data(), got.size() * sizeof(float)) == 0,
                      format_name(format) << " output differs from the same colours as rgb");
            paths_match_scalar(other.view, p);
        }
    }
}

TEST(crop_normalize_gray_replicates_to_three_channels) {
    Rng rng(9);
    const int w = 23, h = 19;
    TestImage gray({w, h, PixelFormat::Gray, 1}, rng);
    TestImage rgb({w, h, PixelFormat::RGB}, rng);
    for (int y = 0; y < h; ++y)
        for (int x = 0; x < w; ++x)
            for (int c = 0; c < 3; ++c) rgb.pixel(x, y)[c] = gray.pixel(x, y)[0];
    for (Border border : kBorders) {
        const Affine t = rect_to_affine({12, 9, 26, 20, -0.4}, 21, 13);
        CropNormalize p = make_params(t, 21, 13, border, rng);
        std::vector<float> from_gray(output_floats(p)), from_rgb(output_floats(p));
        kernels::crop_normalize_scalar(gray.view, p, from_gray.data());
        kernels::crop_normalize_scalar(rgb.view, p, from_rgb.data());
        CHECK(std::memcmp(from_gray.data(), from_rgb.data(), from_rgb.size() * sizeof(float)) == 0);
        // With one normalization for all channels the three outputs are equal.
        for (int c = 1; c < 3; ++c) {
            p.scale[c] = p.scale[0];
            p.offset[c] = p.offset[0];
        }
        kernels::crop_normalize_scalar(gray.view, p, from_gray.data());
        int unequal = 0;
        for (std::size_t i = 0; i < from_gray.size(); i += 3)
            unequal += from_gray[i] != from_gray[i + 1] || from_gray[i] != from_gray[i + 2];
        CHECK_MSG(unequal == 0, unequal << " gray pixels have unequal channels");
    }
}

TEST(crop_normalize_outside_the_image_gives_offset_or_edge_pixels) {
    Rng rng(10);
    TestImage img({16, 12, PixelFormat::RGB}, rng);
    IsaRestorer restore;
    for (Isa isa : available_isas()) {
        force_isa(isa);
        // Zero border: a crop wholly outside reads intensity 0, so every value is the offset.
        CropNormalize zero = make_params(rect_to_affine({-40, 70, 20, 20, 0.3}, 19, 5), 19, 5,
                                         Border::Zero, rng);
        std::vector<float> out(output_floats(zero));
        crop_normalize(img.view, zero, out.data());
        int bad = 0;
        for (std::size_t i = 0; i < out.size(); ++i) bad += out[i] != zero.offset[i % 3];
        CHECK_MSG(bad == 0,
                  isa_name(isa) << ": " << bad << " zero-border values are not the offset");

        // Clamp border: whole-pixel samples right of the image repeat the last column.
        CropNormalize clamp{translation(16 + 50, 0), 19, 12, {1, 1, 1}, {0, 0, 0}, Border::Clamp};
        out.assign(output_floats(clamp), -1.0f);
        crop_normalize(img.view, clamp, out.data());
        bad = 0;
        for (int y = 0; y < 12; ++y)
            for (int x = 0; x < 19; ++x)
                for (int c = 0; c < 3; ++c) bad += out[(y * 19 + x) * 3 + c] != img.pixel(15, y)[c];
        CHECK_MSG(bad == 0,
                  isa_name(isa) << ": " << bad << " clamp-border values are not the edge");
    }
}

TEST(rect_to_affine_of_axis_aligned_and_rotated_rects_samples_expected_pixels) {
    Rng rng(11);
    TestImage img({40, 30, PixelFormat::RGB}, rng);
    auto crop = [&](const RotatedRect& rect, int ow, int oh) {
        CropNormalize p{rect_to_affine(rect, ow, oh), ow, oh, {1, 1, 1}, {0, 0, 0}, Border::Zero};
        std::vector<float> out(output_floats(p));
        kernels::crop_normalize_scalar(img.view, p, out.data());
        return out;
    };
    // An 8x6 rect centred at (10, 8) covers pixels 6..13 x 5..10: a 1:1 crop copies them.
    std::vector<float> out = crop({10, 8, 8, 6, 0}, 8, 6);
    int bad = 0;
    for (int y = 0; y < 6; ++y)
        for (int x = 0; x < 8; ++x)
            for (int c = 0; c < 3; ++c)
                bad += out[(y * 8 + x) * 3 + c] != img.pixel(6 + x, 5 + y)[c];
    CHECK_MSG(bad == 0, bad << " values of the 1:1 axis-aligned crop differ");

    // At half resolution, output (x, y) samples the rect at (x/4, y/3) (MediaPipe's
    // convention): exactly every other pixel from the rect's corner.
    out = crop({10, 8, 8, 6, 0}, 4, 3);
    bad = 0;
    for (int y = 0; y < 3; ++y)
        for (int x = 0; x < 4; ++x)
            for (int c = 0; c < 3; ++c)
                bad += out[(y * 4 + x) * 3 + c] != img.pixel(6 + 2 * x, 5 + 2 * y)[c];
    CHECK_MSG(bad == 0, bad << " values of the half-resolution crop are not every other pixel");

    // Rotated a quarter turn clockwise, output (x, y) reads source (cx + N/2 - y, cy - N/2 + x).
    out = crop({20, 15, 8, 8, kPi / 2}, 8, 8);
    bad = 0;
    for (int y = 0; y < 8; ++y)
        for (int x = 0; x < 8; ++x)
            for (int c = 0; c < 3; ++c)
                bad += std::fabs(out[(y * 8 + x) * 3 + c] -
                                 img.pixel(20 + 4 - y, 15 - 4 + x)[c]) > 1e-3;
    CHECK_MSG(bad == 0, bad << " values of the quarter-turn crop differ");
}

TEST(crop_normalize_rejects_invalid_arguments) {
    Rng rng(12);
    TestImage img({10, 8, PixelFormat::RGB}, rng);
    const CropNormalize good{translation(0, 0), 4, 4, {1, 1, 1}, {0, 0, 0}, Border::Zero};
    std::vector<float> out(4096 * 2 * 3);
    crop_normalize(img.view, good, out.data());  // the baseline is accepted

    const double nan = std::numeric_limits<double>::quiet_NaN();
    const double inf = std::numeric_limits<double>::infinity();
    for (int i = 0; i < 6; ++i) {
        CropNormalize p = good;
        p.transform.m[i] = nan;
        CHECK_THROWS_AS(crop_normalize(img.view, p, out.data()), std::invalid_argument);
        p.transform.m[i] = inf;
        CHECK_THROWS_AS(crop_normalize(img.view, p, out.data()), std::invalid_argument);
    }
    const int bad_sizes[][2] = {{0, 4}, {4, 0}, {-1, 4}, {4, -3}, {kMaxCropSide + 1, 1},
                                {1, kMaxCropSide + 1}};
    for (const auto& s : bad_sizes) {
        CropNormalize p = good;
        p.out_width = s[0];
        p.out_height = s[1];
        CHECK_THROWS_AS(crop_normalize(img.view, p, out.data()), std::invalid_argument);
    }
    {
        CropNormalize p = good;
        p.scale[1] = std::numeric_limits<float>::quiet_NaN();
        CHECK_THROWS_AS(crop_normalize(img.view, p, out.data()), std::invalid_argument);
        p = good;
        p.offset[2] = std::numeric_limits<float>::infinity();
        CHECK_THROWS_AS(crop_normalize(img.view, p, out.data()), std::invalid_argument);
        p = good;
        p.transform.m[2] = 1e7;  // absurdly far outside
        CHECK_THROWS_AS(crop_normalize(img.view, p, out.data()), std::invalid_argument);
        p = good;
        p.transform.m[4] = -2e6;  // the far corner lands ~1.4e7 pixels away
        p.out_height = 8;
        CHECK_THROWS_AS(crop_normalize(img.view, p, out.data()), std::invalid_argument);
        CHECK_THROWS_AS(crop_normalize(img.view, good, nullptr), std::invalid_argument);
    }
    const ImageView v = img.view;
    ImageView bad[7] = {v, v, v, v, v, v, v};
    bad[0].width = 0;                        // empty
    bad[1].height = 0;                       // empty
    bad[2].data = nullptr;                   // no data
    bad[3].stride = v.width * 3 - 1;         // rows overlap
    bad[4].stride = -(v.width * 3 - 1);      // rows overlap, bottom-up
    bad[5].width = kMaxImageSide + 1;        // too large (never read)
    bad[6].format = static_cast<PixelFormat>(9);  // unknown format
    for (const ImageView& b : bad)
        CHECK_THROWS_AS(crop_normalize(b, good, out.data()), std::invalid_argument);
}

#if defined(__aarch64__)
TEST(crop_normalize_neon_path_runs_on_aarch64) {
    if (isa_forced_by_environment()) {
        std::printf("  FACEKIT_SIMD chose %s; the default-path check needs it unset\n",
                    isa_name(active_isa()));
    } else {
        CHECK(active_isa() == Isa::Neon);
    }
    Rng rng(13);
    TestImage img({64, 48, PixelFormat::RGB}, rng);
    const std::uint64_t before = kernel_calls(Isa::Neon);
    std::vector<float> out(96 * 96 * 3);
    for (int i = 0; i < 5; ++i) {
        const CropNormalize p = make_params(rect_to_affine(random_rect(img.view, rng), 96, 96), 96,
                                            96, kBorders[i % 2], rng);
        crop_normalize(img.view, p, out.data());
    }
    const std::uint64_t ran = kernel_calls(Isa::Neon) - before;
    std::printf("  NEON path ran %" PRIu64 " kernel calls\n", ran);
    if (!isa_forced_by_environment()) CHECK(ran == 5);
}
#endif
