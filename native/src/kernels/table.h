// The per-ISA function table (internal): one struct of function pointers per SIMD path, built
// once, holding that path's variant of every kernel or the scalar reference where it has none.
// Every dispatching entry point is then one call: run(&KernelTable::blend, ...).
#pragma once
#include <utility>

#include "facekit/dispatch.h"
#include "kernels/attention_kernels.h"
#include "kernels/beauty_kernels.h"
#include "kernels/fusion_kernels.h"
#include "kernels/kernels.h"
#include "kernels/portrait_kernels.h"
#include "kernels/video_kernels.h"

namespace facekit::kernels {

// A kernel and the path it belongs to (what kernel_calls counts when it runs).
template <typename Fn>
struct Kernel {
    Fn* fn;
    Isa isa;
};

struct KernelTable {
    Kernel<decltype(crop_normalize_scalar)> crop_normalize;
    Kernel<decltype(box_sum_scalar)> box_sum;
    Kernel<decltype(guided_coefficients_scalar)> guided_coefficients;
    Kernel<decltype(guided_output_scalar)> guided_output;
    Kernel<decltype(blend_scalar)> blend;
    Kernel<decltype(remap_bilinear_scalar)> remap_bilinear;
    Kernel<decltype(apply_table_scalar)> apply_table;
    Kernel<decltype(lut3d_scalar)> lut3d;
    Kernel<decltype(pyr_down_rows_scalar)> pyr_down_rows;
    Kernel<decltype(pyr_up_rows_scalar)> pyr_up_rows;
    Kernel<decltype(masked_add_scalar)> masked_add;
    Kernel<decltype(pyr_down_cols_scalar)> pyr_down_cols;
    Kernel<decltype(pyr_up_cols_scalar)> pyr_up_cols;
    Kernel<decltype(rgb_difference_scalar)> rgb_difference;
    Kernel<decltype(rgb_add_round_scalar)> rgb_add_round;
    Kernel<decltype(yuv_to_rgb_row_scalar)> yuv_to_rgb_row;
    Kernel<decltype(rgb_to_y_row_scalar)> rgb_to_y_row;
    Kernel<decltype(rgb_to_uv_row_scalar)> rgb_to_uv_row;
    Kernel<decltype(transform_bilinear_scalar)> transform_bilinear;
    Kernel<decltype(mask_product_scalar)> mask_product;
    Kernel<decltype(skin_likelihood_scalar)> skin_likelihood;
    Kernel<decltype(matte_output_scalar)> matte_output;
};

// The table of `isa` (the scalar table for a path this build lacks).
const KernelTable& kernel_table(Isa isa) noexcept;

// Runs the active path's variant of `op` (facekit::active_isa()) and counts the call.
template <typename Fn, typename... Args>
void run(Kernel<Fn> KernelTable::*op, Args&&... args) {
    const Kernel<Fn>& kernel = kernel_table(active_isa()).*op;
    count_call(kernel.isa);
    kernel.fn(std::forward<Args>(args)...);
}

}  // namespace facekit::kernels
