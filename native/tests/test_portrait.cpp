// Tests of the portrait matte: the matte_output kernel on every available SIMD path against the
// scalar reference, byte for byte, over odd counts, guide strides and interpolation weights
// (inputs flush against PROT_NONE guard pages, outputs prefilled with noise); and the whole
// matte and every compositing effect, bit-identical across paths, on odd-sized images.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "check.h"
#include "facekit/arena.h"
#include "facekit/dispatch.h"
#include "facekit/portrait.h"
#include "kernels/portrait_kernels.h"

using facekit::testing::Guarded;
using facekit::testing::Rng;

namespace {

using namespace facekit;

struct IsaRestorer {
    Isa saved = active_isa();
    ~IsaRestorer() { force_isa(saved); }
};

bool matte_output_matches(std::size_t count, int stride, Rng& rng, bool extreme) {
    Guarded a0(count * 4 + 4), a1(count * 4 + 4), b0(count * 4 + 4), b1(count * 4 + 4);
    const std::size_t guide_bytes = count ? (count - 1) * stride + 1 : 0;
    Guarded guide(guide_bytes), got(count);
    float* rows[4] = {a0.as<float>(), a1.as<float>(), b0.as<float>(), b1.as<float>()};
    for (std::size_t i = 0; i < count; ++i) {
        // Slopes within the cap (|a| <= 15), biases over the quantized range, as the matte
        // makes them; `extreme` spreads both wider so the clamp to 0..255 is hit often.
        const double spread = extreme ? 40.0 : 15.0;
        rows[0][i] = static_cast<float>(rng.uniform(-spread, spread));
        rows[1][i] = static_cast<float>(rng.uniform(-spread, spread));
        rows[2][i] = static_cast<float>(rng.uniform(-4096.0, 4096.0));
        rows[3][i] = static_cast<float>(rng.uniform(-4096.0, 4096.0));
        if (!extreme && i % 3 == 0) {  // flat regions: a ~ 0, b within 0..255 (x.5 roundings)
            rows[0][i] = rows[1][i] = 0.0f;
            rows[2][i] = static_cast<float>(rng.uniform_int(0, 255)) + 0.5f;
            rows[3][i] = rows[2][i];
        }
    }
    for (std::size_t i = 0; i < guide_bytes; ++i) guide.bytes()[i] = rng.byte();
    const float wy = static_cast<float>(rng.uniform(0.0, 1.0));
    std::vector<std::uint8_t> noise(count), expected(count);
    for (auto& v : noise) v = rng.byte();
    kernels::matte_output_scalar(rows[0], rows[1], rows[2], rows[3], wy, guide.bytes(), stride,
                                 count, expected.data());
    IsaRestorer restore;
    for (Isa isa : available_isas()) {
        force_isa(isa);
        if (count) std::memcpy(got.bytes(), noise.data(), count);
        const Isa ran = isa == Isa::Sse41 ? Isa::Scalar : isa;
        const std::uint64_t calls = kernel_calls(ran);
        kernels::matte_output(rows[0], rows[1], rows[2], rows[3], wy, guide.bytes(), stride, count,
                              got.bytes());
        CHECK_MSG(kernel_calls(ran) == calls + 1, isa_name(ran) << " kernel did not run");
        if (count && std::memcmp(expected.data(), got.bytes(), count) != 0) {
            std::size_t first = 0;
            while (expected[first] == got.bytes()[first]) ++first;
            CHECK_MSG(false, isa_name(isa) << " matte_output differs from scalar, count=" << count
                                           << " stride=" << stride << " at " << first);
            return false;
        }
    }
    ++facekit::testing::g_compared;
    return true;
}

}  // namespace

TEST(portrait_matte_output_matches_scalar_for_strides_and_counts) {
    Rng rng(1818);
    const std::size_t counts[] = {0, 1, 2, 7, 8, 9, 15, 16, 17, 25, 33, 100, 257, 1001};
    for (std::size_t count : counts)
        for (int stride : {1, 2, 3, 4, 5})
            for (bool extreme : {false, true})
                if (!matte_output_matches(count, stride, rng, extreme)) return;
    facekit::testing::report_compared("matte_output cases");
}

TEST(portrait_matte_and_effects_are_identical_on_every_path) {
    Rng rng(77);
    struct Size { int w, h, ch; };
    const Size sizes[] = {{3, 2, 3}, {37, 23, 3}, {129, 97, 4}, {301, 455, 3}, {809, 611, 4}};
    IsaRestorer restore;
    for (const Size& s : sizes) {
        std::vector<std::uint8_t> image(static_cast<std::size_t>(s.w) * s.h * s.ch);
        // A bright disc (the "person") on a textured background, plus noise.
        for (int y = 0; y < s.h; ++y)
            for (int x = 0; x < s.w; ++x)
                for (int c = 0; c < s.ch; ++c) {
                    const int dx = x - s.w / 2, dy = y - s.h / 2;
                    const bool in = dx * dx + dy * dy < (s.w * s.w + s.h * s.h) / 16;
                    image[(static_cast<std::size_t>(y) * s.w + x) * s.ch + c] =
                        static_cast<std::uint8_t>((in ? 200 : (x * 7 + y * 3 + c * 50) % 120) + rng.byte() % 30);
                }
        std::vector<float> mask(portrait::kMaskSide * portrait::kMaskSide);
        for (int v = 0; v < portrait::kMaskSide; ++v)
            for (int u = 0; u < portrait::kMaskSide; ++u) {
                const float du = u - 128.0f, dv = v - 128.0f;
                mask[v * portrait::kMaskSide + u] =
                    std::clamp(1.5f - std::sqrt(du * du + dv * dv) / 60.0f, 0.0f, 1.0f);
            }
        std::vector<std::uint8_t> backdrop(11 * 7 * s.ch);
        for (auto& b : backdrop) b = rng.byte();
        ImageView view{image.data(), s.w, s.h, static_cast<std::ptrdiff_t>(s.w) * s.ch,
                       s.ch == 3 ? PixelFormat::RGB : PixelFormat::RGBA};
        ImageView back{backdrop.data(), 11, 7, 11 * s.ch, view.format};
        std::vector<std::vector<std::uint8_t>> reference;
        for (Isa isa : available_isas()) {
            force_isa(isa);
            Arena arena;
            std::vector<std::vector<std::uint8_t>> outputs;
            const std::uint8_t* matte = portrait::matte(view, mask.data(), arena);
            const std::size_t n = static_cast<std::size_t>(s.w) * s.h;
            outputs.emplace_back(matte, matte + n);
            for (portrait::Effect effect : {portrait::Effect::Blur, portrait::Effect::Color,
                                            portrait::Effect::Image, portrait::Effect::Cutout}) {
                portrait::Compose how;
                how.effect = effect;
                how.blur = 0.8f;
                how.color[0] = 10, how.color[1] = 200, how.color[2] = 30;
                how.background = back;
                const std::uint8_t* out = portrait::compose(view, matte, how, arena);
                const int out_ch = effect == portrait::Effect::Cutout ? 4 : s.ch;
                outputs.emplace_back(out, out + n * out_ch);
            }
            if (reference.empty()) {
                reference = outputs;
                // Sanity: the matte separates the disc from the background.
                const std::size_t centre = static_cast<std::size_t>(s.h / 2) * s.w + s.w / 2;
                CHECK(s.w < 10 || (matte[centre] > 200 && matte[0] < 50));
                continue;
            }
            for (std::size_t k = 0; k < outputs.size(); ++k)
                CHECK_MSG(outputs[k] == reference[k], isa_name(isa) << " differs from "
                          << isa_name(available_isas()[0]) << " on output " << k << " of "
                          << s.w << "x" << s.h << "x" << s.ch);
        }
        ++facekit::testing::g_compared;
    }
    facekit::testing::report_compared("portrait images");
}
