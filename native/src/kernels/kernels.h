// Per-ISA kernel entry points (internal). Each <op>_<isa>.cpp implements the scalar reference's
// arithmetic in the same order with contraction off (-ffp-contract=off), so every path produces
// the same float32 results bit for bit. Callers go through the public functions in warp.h etc.,
// which validate arguments and dispatch.
#pragma once
#include <type_traits>

#include "facekit/dispatch.h"
#include "facekit/warp.h"

namespace facekit::kernels {

void count_call(Isa isa) noexcept;

// Scalar reference. The span form computes output pixels [x_begin, x_end) of row `y`; SIMD paths
// use it for the tail of each row.
void crop_normalize_scalar(const ImageView& src, const CropNormalize& p, float* out);
void crop_normalize_span_scalar(const ImageView& src, const CropNormalize& p, int y, int x_begin,
                                int x_end, float* out_row);

#ifdef FACEKIT_HAVE_SSE41
void crop_normalize_sse41(const ImageView& src, const CropNormalize& p, float* out);
#endif
#ifdef FACEKIT_HAVE_AVX2
void crop_normalize_avx2(const ImageView& src, const CropNormalize& p, float* out);
#endif
#ifdef FACEKIT_HAVE_NEON
void crop_normalize_neon(const ImageView& src, const CropNormalize& p, float* out);
#endif

// Row origin of the sampling grid, rounded to float the same way by every path. `static`: each
// ISA's file compiles its own copy with its own flags, so the linker can never hand a CPU an
// AVX2-compiled copy it cannot run.
struct RowOrigin {
    float x, y;
};
static inline RowOrigin row_origin(const Affine& t, int y) {
    return {static_cast<float>(t.m[1] * y + t.m[2]), static_cast<float>(t.m[4] * y + t.m[5])};
}

// Calls body(std::integral_constant<int, C>{}) with C = `channels` as a compile-time constant
// when it is 1 to 4, so each ISA's loops are specialized per pixel layout, and returns its
// result; any other count returns fallback(). `static`: every ISA's file gets its own copy.
template <typename Body, typename Fallback>
static inline auto with_channels(int channels, Body&& body, Fallback&& fallback) {
    switch (channels) {
        case 1: return body(std::integral_constant<int, 1>{});
        case 2: return body(std::integral_constant<int, 2>{});
        case 3: return body(std::integral_constant<int, 3>{});
        case 4: return body(std::integral_constant<int, 4>{});
        default: return fallback();
    }
}

// Calls body(bytes_per_pixel, zero_border) with both as compile-time constants
// (std::integral_constant), so each ISA's row loop is specialized per pixel layout and border.
// `static`: every ISA's file gets its own copy, compiled with its own flags.
template <typename Body>
static inline void with_layout(PixelFormat format, Border border, Body&& body) {
    auto with_border = [&](auto bpp) {
        if (border == Border::Zero)
            body(bpp, std::true_type{});
        else
            body(bpp, std::false_type{});
    };
    switch (bytes_per_pixel(format)) {
        case 1: return with_border(std::integral_constant<int, 1>{});
        case 3: return with_border(std::integral_constant<int, 3>{});
        default: return with_border(std::integral_constant<int, 4>{});
    }
}

}  // namespace facekit::kernels
