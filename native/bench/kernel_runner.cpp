// facekit_kernel_runner: runs one pixel kernel on a fixed, deterministic workload so that
// benchmarks/instruction_counts.py can count its executed instructions (callgrind on x86,
// qemu-user on aarch64). Usage:
//
//   facekit_kernel_runner KERNEL ISA [REPEATS] [ELEMENTS]
//
// KERNEL: box_sum | guided_coefficients | guided_output | blend | remap_bilinear | apply_table |
//         lut3d | crop_normalize | pyr_down_rows | pyr_up_rows | masked_add | pyr_down_cols |
//         pyr_up_cols | rgb_difference | rgb_add_round | yuv_to_rgb_row | rgb_to_y_row |
//         rgb_to_uv_row | transform_bilinear | mask_product | skin_likelihood |
//         matte_output
// ISA: scalar | sse41 | avx2 | neon (forced with facekit::force_isa). REPEATS (default 1): how
// many calls of the kernel. ELEMENTS (default 420000, a 600x700 face region of a 1080p frame):
// pixels of the region; the crop's output side is scaled with it (192x192 at the default).
// transform_bilinear ignores ELEMENTS: it runs the attention mesh's fixed workload.
//
// Inputs are prepared before the measured loop and a checksum of the output is printed after it,
// so the work cannot be optimized away. Everything outside the loop costs the same whatever
// REPEATS is: counting REPEATS=1 and REPEATS=3 and halving the difference gives the instructions
// of one call. The loop itself lives in measured_region() (never inlined), which callgrind can
// also toggle on by name. Prints: kernel, isa, repeats, elements, output elements, checksum and
// how many calls the dispatcher counted on the forced path (proof that path ran).
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <functional>
#include <string>
#include <vector>

#include "../tests/check.h"
#include "facekit/attention.h"
#include "facekit/dispatch.h"
#include "facekit/warp.h"
#include "kernels/beauty_kernels.h"
#include "kernels/fusion_kernels.h"
#include "kernels/portrait_kernels.h"
#include "kernels/video_kernels.h"

namespace {

using namespace facekit;

using facekit::testing::Rng;  // the tests' generator: the same inputs on every platform

// Random-looking bytes, cheap to make (setup runs instruction by instruction in the counters
// too): one 64 KiB random tile, copied at shifting offsets so that neighbouring rows differ.
void fill_bytes(std::vector<std::uint8_t>& v, std::uint64_t seed) {
    constexpr std::size_t kTile = 1 << 16, kChunk = 4093;  // a prime chunk: offsets keep moving
    static std::uint8_t tile[kTile + 4096];                 // room for a chunk past kTile
    Rng rng(seed);
    for (std::size_t i = 0; i + 8 <= sizeof tile; i += 8) {
        const std::uint64_t x = rng.next();
        std::memcpy(&tile[i], &x, 8);
    }
    std::size_t offset = 0;
    for (std::size_t i = 0; i < v.size(); i += kChunk) {
        std::memcpy(&v[i], &tile[offset], std::min(kChunk, v.size() - i));
        offset = (offset + 7919) % kTile;
    }
}

// FNV-1a-style hash of the output, eight bytes per step.
std::uint64_t checksum(const void* data, std::size_t bytes) {
    const auto* p = static_cast<const std::uint8_t*>(data);
    std::uint64_t h = 0xcbf29ce484222325ull;
    std::size_t i = 0;
    for (; i + 8 <= bytes; i += 8) {
        std::uint64_t w;
        std::memcpy(&w, p + i, 8);
        h = (h ^ w) * 0x100000001b3ull;
        h ^= h >> 29;
    }
    for (; i < bytes; ++i) h = (h ^ p[i]) * 0x100000001b3ull;
    return h;
}

// The only code whose cost grows with REPEATS.
__attribute__((noinline)) void measured_region(const std::function<void()>& kernel,
                                               int repeats) {
    for (int i = 0; i < repeats; ++i) kernel();
}

// A face-region-shaped rectangle (6:7) with about `elements` pixels.
void region(long elements, int& width, int& height) {
    width = static_cast<int>(std::lround(std::sqrt(static_cast<double>(elements) * 6.0 / 7.0)));
    if (width < 1) width = 1;
    height = static_cast<int>((elements + width - 1) / width);
}

int usage() {
    std::fprintf(stderr,
                 "usage: facekit_kernel_runner KERNEL ISA [REPEATS] [ELEMENTS]\n"
                 "  KERNEL: box_sum guided_coefficients guided_output blend remap_bilinear apply_table lut3d "
                 "crop_normalize pyr_down_rows pyr_up_rows masked_add pyr_down_cols pyr_up_cols rgb_difference "
                 "rgb_add_round yuv_to_rgb_row rgb_to_y_row rgb_to_uv_row transform_bilinear mask_product skin_likelihood matte_output\n  ISA: scalar sse41 avx2 neon\n");
    return 2;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 3 || argc > 5) return usage();
    const std::string kernel = argv[1];
    const int repeats = argc > 3 ? std::atoi(argv[3]) : 1;
    const long elements = argc > 4 ? std::atol(argv[4]) : 420000;
    if (repeats < 0 || elements < 64) return usage();
    Isa isa;
    try {
        isa = isa_from_name(argv[2]);
        force_isa(isa);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "facekit_kernel_runner: %s\n", e.what());
        return 3;
    }
    // The beauty kernels have no SSE4.1 variant: that path runs (and is counted as) scalar.
    const bool beauty = kernel != "crop_normalize";
    const Isa counted = beauty && isa == Isa::Sse41 ? Isa::Scalar : isa;

    int width, height;
    region(elements, width, height);
    const std::size_t n = static_cast<std::size_t>(width) * height;
    const int r = 13;  // the guided filter's radius on a 600x700 region
    const float inv_n = 1.0f / static_cast<float>((2 * r + 1) * (2 * r + 1));
    const std::uint32_t window = (2 * r + 1) * (2 * r + 1);

    std::function<void()> run;
    int calls_per_run = 1;    // dispatcher calls in one run()
    std::size_t in_elements = n;  // input pixels, as printed
    const void* out_data = nullptr;
    std::size_t out_bytes = 0, out_elements = 0;

    // Buffers live until the end of main.
    std::vector<std::uint32_t> u32a, u32b, u32c, u32d;
    std::vector<std::uint8_t> u8a, u8b, u8c, u8out;
    kernels::SkinColour skin{};
    std::uint8_t table[256];
    std::vector<float> positions, floats_out;
    CropNormalize crop{};
    ImageView image;

    if (kernel == "box_sum") {
        // One channel plane of 8-bit values widened to 32 bits, as guided_filter feeds it.
        u8a.resize(n);
        fill_bytes(u8a, 1);
        u32a.assign(u8a.begin(), u8a.end());
        u32b.assign(n, 0);
        u32c.assign(static_cast<std::size_t>(width) + 2 * r + 1, 0);
        run = [&] { kernels::box_sum(u32a.data(), width, height, r, u32b.data(), u32c.data()); };
        out_data = u32b.data();
        out_bytes = n * 4;
        out_elements = n;
    } else if (kernel == "guided_coefficients") {
        // Window sums of I and I*I that a real plane could give: mean m, variance v.
        u8a.resize(2 * n);
        fill_bytes(u8a, 2);
        u32a.resize(n);
        u32b.resize(n);
        for (std::size_t i = 0; i < n; ++i) {
            const std::uint32_t m = u8a[2 * i], v = u8a[2 * i + 1] * 8u;
            u32a[i] = m * window;
            u32b[i] = (m * m + v) * window;
        }
        u32c.assign(n, 0);
        u32d.assign(n, 0);
        run = [&] {
            kernels::guided_coefficients(u32a.data(), u32b.data(), n, inv_n, 50.0f, u32c.data(),
                                         u32d.data());
        };
        out_data = u32c.data();  // a_q and b_q: both checksummed below
        out_bytes = n * 4;
        out_elements = n;
    } else if (kernel == "guided_output") {
        // Window sums of a_q (0..4096) and b_q (0..4080); one channel of an RGB guide.
        u8a.resize(2 * n);
        fill_bytes(u8a, 3);
        u32a.resize(n);
        u32b.resize(n);
        for (std::size_t i = 0; i < n; ++i) {
            u32a[i] = u8a[2 * i] * 16u * window;
            u32b[i] = u8a[2 * i + 1] * 16u * window;
        }
        u8b.resize(3 * n);
        fill_bytes(u8b, 4);
        u8out.assign(3 * n, 0);
        run = [&] {
            kernels::guided_output(u32a.data(), u32b.data(), u8b.data() + 1, 3, n, inv_n,
                                   u8out.data() + 1, 3);
        };
        out_data = u8out.data();
        out_bytes = 3 * n;
        out_elements = n;
    } else if (kernel == "matte_output") {
        // The portrait matte's output rows over the region: coefficient rows (slopes within
        // +-15, biases within +-4096, as the matte makes them) and the green byte of an RGB guide.
        u8a.resize(4 * n);
        fill_bytes(u8a, 31);
        positions.resize(4 * n);
        for (std::size_t i = 0; i < n; ++i) {
            positions[i] = (u8a[4 * i] - 128) * (15.0f / 128.0f);
            positions[n + i] = (u8a[4 * i + 1] - 128) * (15.0f / 128.0f);
            positions[2 * n + i] = (u8a[4 * i + 2] - 128) * 32.0f;
            positions[3 * n + i] = (u8a[4 * i + 3] - 128) * 32.0f;
        }
        u8b.resize(3 * n);
        fill_bytes(u8b, 32);
        u8out.assign(n, 0);
        // The region's rows one after another, as one call (a row of n pixels).
        run = [&] {
            const float* f = positions.data();
            kernels::matte_output(f, f + n, f + 2 * n, f + 3 * n, 0.375f, u8b.data() + 1, 3, n,
                                  u8out.data());
        };
        out_data = u8out.data();
        out_bytes = n;
        out_elements = n;
    } else if (kernel == "skin_likelihood") {
        // The skin likelihood of the face's region under a typical model (both outputs).
        u8a.resize(3 * n);
        u8b.resize(n);
        fill_bytes(u8a, 14);
        fill_bytes(u8b, 15);
        u8out.assign(2 * n, 0);
        skin.r = 110.0f, skin.g = 78.0f, skin.scale_r = 0.2f, skin.scale_g = 0.25f;
        skin.zero_in = 5.0f, skin.ramp_in = 0.5f, skin.zero_out = 8.0f, skin.ramp_out = 1.0f / 3.0f;
        skin.dark_lo = 20.0f, skin.dark_ramp = 0.05f;
        run = [&] {
            kernels::skin_likelihood(u8a.data(), u8b.data(), n, skin, u8out.data(), u8out.data() + n);
        };
        out_data = u8out.data();
        out_bytes = 2 * n;
        out_elements = n;
    } else if (kernel == "mask_product") {
        // The skin mask times the skin likelihood over the face's region.
        u8a.resize(n);
        u8b.resize(n);
        fill_bytes(u8a, 12);
        fill_bytes(u8b, 13);
        u8out.assign(n, 0);
        run = [&] { kernels::mask_product(u8a.data(), u8b.data(), n, u8out.data()); };
        out_data = u8out.data();
        out_bytes = n;
        out_elements = n;
    } else if (kernel == "blend") {
        u8a.resize(3 * n);
        u8b.resize(3 * n);
        u8c.resize(n);
        fill_bytes(u8a, 5);
        fill_bytes(u8b, 6);
        fill_bytes(u8c, 7);
        u8out.assign(3 * n, 0);
        run = [&] { kernels::blend(u8a.data(), u8b.data(), u8c.data(), 205, n, 3, u8out.data()); };
        out_data = u8out.data();
        out_bytes = 3 * n;
        out_elements = n;
    } else if (kernel == "remap_bilinear") {
        // A gentle warp: every position fractional, a few clamped at the borders.
        u8a.resize(3 * n);
        fill_bytes(u8a, 8);
        positions.resize(2 * n);
        for (int y = 0; y < height; ++y)
            for (int x = 0; x < width; ++x) {
                float* p = &positions[(static_cast<std::size_t>(y) * width + x) * 2];
                p[0] = static_cast<float>(x) * 0.985f + 4.3f;
                p[1] = static_cast<float>(y) * 0.99f + 2.7f;
            }
        u8out.assign(3 * n, 0);
        run = [&] {
            kernels::remap_bilinear(u8a.data(), width, height,
                                    static_cast<std::ptrdiff_t>(width) * 3, 3, positions.data(),
                                    n, u8out.data());
        };
        out_data = u8out.data();
        out_bytes = 3 * n;
        out_elements = n;
    } else if (kernel == "apply_table") {
        // A tone curve on every byte of the RGB region.
        u8a.resize(3 * n);
        fill_bytes(u8a, 10);
        for (int v = 0; v < 256; ++v) table[v] = static_cast<std::uint8_t>(v + (v * (255 - v)) / 510);
        u8out.assign(3 * n, 0);
        run = [&] { kernels::apply_table(u8a.data(), 3 * n, table, u8out.data()); };
        out_data = u8out.data();
        out_bytes = 3 * n;
        out_elements = n;
    } else if (kernel == "lut3d") {
        // A 33-point grading LUT on the RGB region.
        const int size = 33;
        u8a.resize(3 * n);
        fill_bytes(u8a, 11);
        u8b.resize(static_cast<std::size_t>(size) * size * size * 3);
        fill_bytes(u8b, 12);
        u8out.assign(3 * n, 0);
        run = [&] { kernels::lut3d(u8a.data(), n, u8b.data(), size, u8out.data()); };
        out_data = u8out.data();
        out_bytes = 3 * n;
        out_elements = n;
    } else if (kernel == "pyr_down_rows" || kernel == "pyr_up_rows" || kernel == "masked_add") {
        // Fusion's pyramid rows over one channel plane of the region: each call filters or
        // blends `n` floats (the rows of a plane, one after another).
        u8a.resize(3 * n);
        fill_bytes(u8a, 13);
        positions.resize(3 * n);
        for (std::size_t i = 0; i < 3 * n; ++i) positions[i] = static_cast<float>(u8a[i]) - 128.0f;
        floats_out.assign(2 * n, 0.0f);
        const float* a = positions.data();
        const float* b = a + n;
        const float* c = b + n;
        if (kernel == "pyr_down_rows")
            run = [&, a, b, c] { kernels::pyr_down_rows(a, b, c, b, a, n, floats_out.data()); };
        else if (kernel == "pyr_up_rows")
            run = [&, a, b, c] {
                kernels::pyr_up_rows(a, b, c, n, floats_out.data(), floats_out.data() + n);
            };
        else
            // The accumulator is reset each call (a copy of n floats, counted with the kernel),
            // so that every call, and every REPEATS, writes the same checksum.
            run = [&, a, b, c] {
                std::memcpy(floats_out.data(), b, n * sizeof(float));
                kernels::masked_add(a, c, n, floats_out.data());
            };
        out_data = floats_out.data();
        out_bytes = floats_out.size() * sizeof(float);
        out_elements = n;
    } else if (kernel == "rgb_difference" || kernel == "rgb_add_round") {
        // The multi-band blend's split of the region's RGB pixels into three float planes, and
        // its join of three planes (sums around +-40, some past 0..255) back into RGB bytes.
        u8a.resize(3 * n);
        fill_bytes(u8a, 15);
        u8b.resize(3 * n);
        fill_bytes(u8b, 16);
        floats_out.assign(3 * n, 0.0f);
        if (kernel == "rgb_difference") {
            run = [&] {
                float* p = floats_out.data();
                kernels::rgb_difference(u8a.data(), u8b.data(), n, p, p + n, p + 2 * n);
            };
            out_data = floats_out.data();
            out_bytes = floats_out.size() * sizeof(float);
        } else {
            positions.resize(3 * n);
            for (std::size_t i = 0; i < 3 * n; ++i) positions[i] = (static_cast<float>(u8b[i]) - 128.0f) * 0.3f;
            u8out.assign(3 * n, 0);
            run = [&] {
                const float* p = positions.data();
                kernels::rgb_add_round(u8a.data(), p, p + n, p + 2 * n, n, u8out.data());
            };
            out_data = u8out.data();
            out_bytes = 3 * n;
        }
        out_elements = n;
    } else if (kernel == "yuv_to_rgb_row" || kernel == "rgb_to_y_row" || kernel == "rgb_to_uv_row") {
        // A video frame's conversion over the region's pixels as one long row (one dispatcher
        // call), with fixed-point coefficients of about BT.709 limited range's sizes, chroma on
        // even columns (H.264's siting).
        static kernels::YuvCoefficients k{16,    1220621, 117377, -13963, -34885, 138285, 0,
                                          11966, 40254,   4063,   1074128, -6596, -22189,
                                          28785, 28785,   -26145, -2640,   (128 << 20) + (1 << 19)};
        const int w = static_cast<int>(n), cw = (w + 1) / 2;
        u8a.resize(3 * n * 4);
        fill_bytes(u8a, 17);
        u8out.assign(3 * n, 0);
        if (kernel == "yuv_to_rgb_row") {
            const std::uint8_t* p = u8a.data();
            run = [&, p, w, cw] { kernels::yuv_to_rgb_row(p, p + w, p + w + cw, p + w + 2 * cw, p + w + 3 * cw, w, k, u8out.data()); };
            out_bytes = 3 * n;
        } else if (kernel == "rgb_to_y_row") {
            run = [&, w] { kernels::rgb_to_y_row(u8a.data(), w, k, u8out.data()); };
            out_bytes = n;
        } else {
            const std::uint8_t* p = u8a.data();
            run = [&, p, w, cw] {
                kernels::rgb_to_uv_row(p, p + 3 * n, p + 6 * n, p + 9 * n, w, k, u8out.data(), u8out.data() + cw);
            };
            out_bytes = 2 * static_cast<std::size_t>(cw);
        }
        out_data = u8out.data();
        out_elements = n;
    } else if (kernel == "pyr_down_cols" || kernel == "pyr_up_cols") {
        // The pyramid's horizontal passes over the region's samples as one long row (one
        // dispatcher call; the two clamped ends are negligible): down reads n and writes n / 2,
        // up reads n / 2 and writes n.
        u8a.resize(n);
        fill_bytes(u8a, 14);
        positions.resize(n);
        for (std::size_t i = 0; i < n; ++i) positions[i] = static_cast<float>(u8a[i]) - 128.0f;
        const int count = static_cast<int>(n), half = (count + 1) / 2;
        floats_out.assign(n, 0.0f);
        if (kernel == "pyr_down_cols") {
            run = [&, count, half] { kernels::pyr_down_cols(positions.data(), count, floats_out.data(), half); };
            out_elements = static_cast<std::size_t>(half);
        } else {
            run = [&, count, half] { kernels::pyr_up_cols(positions.data(), half, floats_out.data(), count); };
            out_elements = n;
        }
        out_data = floats_out.data();
        out_bytes = floats_out.size() * sizeof(float);
    } else if (kernel == "crop_normalize") {
        // A rotated face (about 560 px) in a 1920x1080 RGB frame into a 192x192 crop (the crop's
        // side follows ELEMENTS: 192 at 420000, a face region's pixels at 1080p).
        const int side = static_cast<int>(std::lround(192.0 * std::sqrt(elements / 420000.0)));
        image.width = 1920;
        image.height = 1080;
        image.stride = 1920 * 3;
        image.format = PixelFormat::RGB;
        u8a.resize(static_cast<std::size_t>(image.stride) * image.height);
        fill_bytes(u8a, 9);
        image.data = u8a.data();
        crop.transform = rect_to_affine(RotatedRect{980.0, 540.0, 560.0, 560.0, 0.3}, side, side);
        crop.out_width = side;
        crop.out_height = side;
        for (int c = 0; c < 3; ++c) {
            crop.scale[c] = 1.0f / 127.5f;
            crop.offset[c] = -1.0f;
        }
        crop.border = Border::Zero;
        floats_out.assign(static_cast<std::size_t>(side) * side * 3, 0.0f);
        run = [&] { crop_normalize(image, crop, floats_out.data()); };
        out_data = floats_out.data();
        out_bytes = floats_out.size() * sizeof(float);
        out_elements = static_cast<std::size_t>(side) * side;
    } else if (kernel == "transform_bilinear") {
        // The attention mesh's three 16x16 crops (lips, eyes) of its 48x48x32 feature map: each
        // turned by a few degrees and framing about 12 map pixels, all inside the map.
        const int side = 48, channels = 32, out_side = 16;
        u8a.resize(static_cast<std::size_t>(side) * side * channels);
        fill_bytes(u8a, 18);
        positions.resize(u8a.size());
        for (std::size_t i = 0; i < u8a.size(); ++i)
            positions[i] = (static_cast<float>(u8a[i]) - 128.0f) / 64.0f;
        static float matrices[3][16];
        const double crops[3][3] = {{24.0, 34.0, 0.05}, {15.5, 18.0, -0.2}, {32.5, 18.5, 0.15}};
        for (int k = 0; k < 3; ++k) {
            const double scale = 0.75, c = std::cos(crops[k][2]) * scale,
                         s = std::sin(crops[k][2]) * scale, h = out_side / 2.0;
            const float m[16] = {static_cast<float>(c), static_cast<float>(-s), 0,
                                 static_cast<float>(crops[k][0] - (c * h - s * h)),
                                 static_cast<float>(s), static_cast<float>(c), 0,
                                 static_cast<float>(crops[k][1] - (s * h + c * h)),
                                 0, 0, 1, 0, 0, 0, 0, 1};
            std::memcpy(matrices[k], m, sizeof m);
        }
        const std::size_t crop = static_cast<std::size_t>(out_side) * out_side * channels;
        floats_out.assign(3 * crop, 0.0f);
        calls_per_run = 3;
        in_elements = static_cast<std::size_t>(side) * side;
        run = [&, side, channels, out_side, crop] {
            for (int k = 0; k < 3; ++k)
                transform_bilinear(positions.data(), side, side, channels, matrices[k], out_side,
                                   out_side, floats_out.data() + k * crop);
        };
        out_data = floats_out.data();
        out_bytes = floats_out.size() * sizeof(float);
        out_elements = 3 * static_cast<std::size_t>(out_side) * out_side;
    } else {
        return usage();
    }

    const std::uint64_t calls_before = kernel_calls(counted);
    try {
        measured_region(run, repeats);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "facekit_kernel_runner: %s\n", e.what());
        return 1;
    }
    const std::uint64_t calls = kernel_calls(counted) - calls_before;
    std::uint64_t sum = checksum(out_data, out_bytes);
    if (kernel == "guided_coefficients") sum ^= checksum(u32d.data(), n * 4) * 31;
    std::printf("kernel=%s isa=%s repeats=%d elements=%zu output_elements=%zu checksum=%016llx "
                "calls=%llu\n",
                kernel.c_str(), isa_name(isa), repeats, in_elements, out_elements,
                static_cast<unsigned long long>(sum), static_cast<unsigned long long>(calls));
    return calls == static_cast<std::uint64_t>(repeats) * calls_per_run ? 0 : 4;
}
