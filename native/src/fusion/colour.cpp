// Skin colour in CIE Lab (sRGB, D65): statistics of skin pixels and the table that moves one
// face's statistics to another's.
#include <algorithm>
#include <array>
#include <cstdint>
#include <cmath>
#include <cstring>

#include "fusion/fusion_internal.h"

namespace facekit::fusion {

namespace {

struct Lab {
    float l, a, b;
};

const std::array<float, 256>& linear_table() {
    static const std::array<float, 256> table = [] {
        std::array<float, 256> t{};
        for (int i = 0; i < 256; ++i) {
            const float v = static_cast<float>(i) / 255.0f;
            t[i] = v <= 0.04045f ? v / 12.92f : std::pow((v + 0.055f) / 1.055f, 2.4f);
        }
        return t;
    }();
    return table;
}

float lab_f(float t) { return t > 0.008856f ? std::cbrt(t) : 7.787f * t + 16.0f / 116.0f; }
float lab_f_inverse(float f) { return f > 0.206897f ? f * f * f : (f - 16.0f / 116.0f) / 7.787f; }

Lab lab_of(const std::uint8_t* rgb) {
    const auto& lin = linear_table();
    const float r = lin[rgb[0]], g = lin[rgb[1]], b = lin[rgb[2]];
    const float x = (0.4124f * r + 0.3576f * g + 0.1805f * b) / 0.95047f;
    const float y = 0.2126f * r + 0.7152f * g + 0.0722f * b;
    const float z = (0.0193f * r + 0.1192f * g + 0.9505f * b) / 1.08883f;
    const float fx = lab_f(x), fy = lab_f(y), fz = lab_f(z);
    return {116.0f * fy - 16.0f, 500.0f * (fx - fy), 200.0f * (fy - fz)};
}

float float_of_bits(std::uint32_t bits) {
    float v;
    std::memcpy(&v, &bits, sizeof v);
    return v;
}

std::uint8_t encode_exactly(float v) {
    v = std::clamp(v, 0.0f, 1.0f);
    const float s = v <= 0.0031308f ? 12.92f * v : 1.055f * std::pow(v, 1.0f / 2.4f) - 0.055f;
    return static_cast<std::uint8_t>(std::lround(std::clamp(s, 0.0f, 1.0f) * 255.0f));
}

// encode_exactly without a pow per call: it is non-decreasing in v, so it is the number of
// thresholds k = 1..255 (the least float in [0, 1] that encodes to k or more) at most v; a table
// over 4096 buckets of [0, 1] gives the count at each bucket's start, and a step or two ends it.
class Encoder {
public:
    Encoder() {
        for (int k = 1; k < 256; ++k) {
            // Bisection over the bit patterns of the floats in [0, 1] (ordered as integers).
            std::uint32_t lo = 0, hi = 0x3f800000u;  // encode(lo) < k <= encode(hi)
            while (hi - lo > 1) {
                const std::uint32_t mid = lo + (hi - lo) / 2;
                (encode_exactly(float_of_bits(mid)) >= k ? hi : lo) = mid;
            }
            threshold_[k] = float_of_bits(hi);
        }
        threshold_[0] = 0.0f, threshold_[256] = 2.0f;  // sentinels
        int k = 0;
        for (int b = 0; b < kBuckets; ++b) {
            const float start = static_cast<float>(b) / kBuckets;
            while (threshold_[k + 1] <= start) ++k;
            bucket_[b] = static_cast<std::uint8_t>(k);
        }
    }
    std::uint8_t operator()(float v) const {
        if (!(v > 0.0f)) return 0;  // also NaN, as encode_exactly
        if (v >= 1.0f) return 255;
        int k = bucket_[static_cast<int>(v * kBuckets)];
        while (threshold_[k + 1] <= v) ++k;
        return static_cast<std::uint8_t>(k);
    }

private:
    static constexpr int kBuckets = 4096;
    float threshold_[257];
    std::uint8_t bucket_[kBuckets];
};

std::uint8_t encode(float v) {
    static const Encoder encoder;
    return encoder(v);
}

void rgb_of(Lab c, std::uint8_t* out) {
    const float fy = (c.l + 16.0f) / 116.0f, fx = fy + c.a / 500.0f, fz = fy - c.b / 200.0f;
    const float x = lab_f_inverse(fx) * 0.95047f, y = lab_f_inverse(fy),
                z = lab_f_inverse(fz) * 1.08883f;
    out[0] = encode(3.2406f * x - 1.5372f * y - 0.4986f * z);
    out[1] = encode(-0.9689f * x + 1.8758f * y + 0.0415f * z);
    out[2] = encode(0.0557f * x - 0.2040f * y + 1.0570f * z);
}

}  // namespace

std::size_t skin_stats(const Frame& f, const std::uint8_t* rgb, const Plane& mask, int step,
                       float out[kFusionSkinStats]) {
    double sum[3] = {0, 0, 0}, square[3] = {0, 0, 0};
    std::size_t n = 0;
    for (int y = 0; y < f.height; y += step) {
        for (int x = 0; x < f.width; x += step) {
            const std::size_t i = static_cast<std::size_t>(y) * f.width + x;
            if (mask.data[i] < 128) continue;
            const Lab c = lab_of(rgb + 3 * i);
            const float v[3] = {c.l, c.a, c.b};
            for (int k = 0; k < 3; ++k) sum[k] += v[k], square[k] += double{v[k]} * v[k];
            ++n;
        }
    }
    if (n == 0) return 0;
    for (int k = 0; k < 3; ++k) {
        const double mean = sum[k] / static_cast<double>(n);
        const double var = std::max(square[k] / static_cast<double>(n) - mean * mean, 0.0);
        out[k] = static_cast<float>(mean);
        out[3 + k] = static_cast<float>(std::sqrt(var));
    }
    return n;
}

std::uint8_t* transfer_lut(const float from[kFusionSkinStats], const float to[kFusionSkinStats],
                           bool chroma, Arena& arena) {
    const int n = kTransferLutSize;
    auto* lut = arena.allocate_array<std::uint8_t>(static_cast<std::size_t>(n) * n * n * 3);
    float gain[3] = {1, 1, 1}, source[3] = {0, 0, 0}, dest[3] = {0, 0, 0};
    for (int k = 0; k < (chroma ? 3 : 1); ++k) {
        gain[k] = std::clamp(to[3 + k] / std::max(from[3 + k], 1e-3f), 0.5f, 1.0f);
        source[k] = from[k], dest[k] = to[k];
    }
    // The Lab colours of the table's grid (the same for every table, so computed once).
    static const std::array<Lab, kTransferLutSize * kTransferLutSize * kTransferLutSize> grid = [] {
        std::array<Lab, kTransferLutSize * kTransferLutSize * kTransferLutSize> out{};
        const int m = kTransferLutSize - 1;
        std::size_t i = 0;
        for (int b = 0; b <= m; ++b)
            for (int g = 0; g <= m; ++g)
                for (int r = 0; r <= m; ++r) {
                    const std::uint8_t rgb[3] = {static_cast<std::uint8_t>((r * 255 + m / 2) / m),
                                                 static_cast<std::uint8_t>((g * 255 + m / 2) / m),
                                                 static_cast<std::uint8_t>((b * 255 + m / 2) / m)};
                    out[i++] = lab_of(rgb);
                }
        return out;
    }();
    std::uint8_t* entry = lut;
    for (const Lab& c : grid) {
        rgb_of({(c.l - source[0]) * gain[0] + dest[0], (c.a - source[1]) * gain[1] + dest[1],
                (c.b - source[2]) * gain[2] + dest[2]},
               entry);
        entry += 3;
    }
    return lut;
}

}  // namespace facekit::fusion
