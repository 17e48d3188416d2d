// NEON (aarch64) helpers of the beauty engine's pixel kernels, shared by the <op>_neon.cpp files
// (<op>.cpp holds each reference). Every output equals the scalar reference's: integer maths is
// exact (where the reference's order is changed, the result is the same integer, as the comments
// show), float maths repeats the reference's operations in its order with vmulq + vaddq, never
// vmlaq/vfmaq on floats (and the file is built with -ffp-contract=off), and conversions round or
// truncate as the scalar casts do (vcvtq_f32_u32 rounds to nearest even like ucvtf; vcvtq_u32_f32 /
// vcvtq_s32_f32 truncate like fcvtzu / fcvtzs). Tails shorter than a vector go to the scalar
// functions, which are element-wise (box_sum excepted: it runs entirely here). Everything here is
// inline or a template in an anonymous namespace: each file compiles its own copy with its own
// flags.
#pragma once
#include <arm_neon.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <type_traits>
#include <utility>

#include "kernels/beauty_kernels.h"
#include "kernels/kernels.h"


namespace facekit::kernels {
namespace {
inline int min_int(int a, int b) { return a < b ? a : b; }
inline int max_int(int a, int b) { return a < b ? b : a; }

// std::max(v, lo) = (v < lo) ? lo : v and
// std::clamp(v, lo, hi) = (v < lo) ? lo : (hi < v) ? hi : v, as compares and selects
// (vmaxq_f32 would differ on NaN and on -0).
inline float32x4_t std_max(float32x4_t v, float32x4_t lo) {
    return vbslq_f32(vcltq_f32(v, lo), lo, v);
}
inline float32x4_t std_clamp(float32x4_t v, float32x4_t lo, float32x4_t hi) {
    const float32x4_t t = vbslq_f32(vcltq_f32(v, lo), lo, v);
    return vbslq_f32(vcltq_f32(hi, t), hi, t);
}

// Per-channel-count loads and stores of 8 or 16 interleaved pixels (blend, remap_bilinear).

template <int Channels>
struct Pixels;
template <>
struct Pixels<1> {  // arm_neon.h has no x1 array types: the same shape, by hand
    struct Q {
        uint8x16_t val[1];
    };
    struct D {
        uint8x8_t val[1];
    };
    static Q load16(const std::uint8_t* p) { return {{vld1q_u8(p)}}; }
    static void store16(std::uint8_t* p, Q v) { vst1q_u8(p, v.val[0]); }
    static void store8(std::uint8_t* p, D v) { vst1_u8(p, v.val[0]); }
    template <int L>
    static D load_lane(const std::uint8_t* p, D v) { return {{vld1_lane_u8(p, v.val[0], L)}}; }
};
template <>
struct Pixels<2> {
    using Q = uint8x16x2_t;
    using D = uint8x8x2_t;
    static Q load16(const std::uint8_t* p) { return vld2q_u8(p); }
    static void store16(std::uint8_t* p, Q v) { vst2q_u8(p, v); }
    static void store8(std::uint8_t* p, D v) { vst2_u8(p, v); }
    template <int L>
    static D load_lane(const std::uint8_t* p, D v) { return vld2_lane_u8(p, v, L); }
};
template <>
struct Pixels<3> {
    using Q = uint8x16x3_t;
    using D = uint8x8x3_t;
    static Q load16(const std::uint8_t* p) { return vld3q_u8(p); }
    static void store16(std::uint8_t* p, Q v) { vst3q_u8(p, v); }
    static void store8(std::uint8_t* p, D v) { vst3_u8(p, v); }
    template <int L>
    static D load_lane(const std::uint8_t* p, D v) { return vld3_lane_u8(p, v, L); }
};
template <>
struct Pixels<4> {
    using Q = uint8x16x4_t;
    using D = uint8x8x4_t;
    static Q load16(const std::uint8_t* p) { return vld4q_u8(p); }
    static void store16(std::uint8_t* p, Q v) { vst4q_u8(p, v); }
    static void store8(std::uint8_t* p, D v) { vst4_u8(p, v); }
    template <int L>
    static D load_lane(const std::uint8_t* p, D v) { return vld4_lane_u8(p, v, L); }
};

}  // namespace
}  // namespace facekit::kernels
