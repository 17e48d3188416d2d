// Chooses the SIMD path once per process and counts which kernels ran.
#include <atomic>
#include <cstdlib>
#include <mutex>
#include <stdexcept>

#include "kernels/kernels.h"
#include "kernels/table.h"

#if defined(__aarch64__)
#include <sys/auxv.h>
#include <asm/hwcap.h>
#endif

namespace facekit {

const char* isa_name(Isa isa) noexcept {
    switch (isa) {
        case Isa::Scalar: return "scalar";
        case Isa::Sse41: return "sse41";
        case Isa::Avx2: return "avx2";
        case Isa::Neon: return "neon";
    }
    return "unknown";
}

Isa isa_from_name(const std::string& name) {
    for (int i = 0; i < kIsaCount; ++i) {
        const Isa isa = static_cast<Isa>(i);
        if (name == isa_name(isa)) return isa;
    }
    throw std::invalid_argument("unknown SIMD path '" + name +
                                "': expected one of scalar, sse41, avx2, neon");
}

bool isa_compiled(Isa isa) noexcept {
    switch (isa) {
        case Isa::Scalar: return true;
#ifdef FACEKIT_HAVE_SSE41
        case Isa::Sse41: return true;
#endif
#ifdef FACEKIT_HAVE_AVX2
        case Isa::Avx2: return true;
#endif
#ifdef FACEKIT_HAVE_NEON
        case Isa::Neon: return true;
#endif
        default: return false;
    }
}

const CpuFeatures& cpu_features() {
    static const CpuFeatures features = [] {
        CpuFeatures f;
#if defined(__x86_64__) || defined(__i386__)
        f.arch = "x86_64";
        __builtin_cpu_init();
        f.sse41 = __builtin_cpu_supports("sse4.1");
        f.avx2 = __builtin_cpu_supports("avx2");  // also checks that the OS saves AVX state
        f.fma = __builtin_cpu_supports("fma");
#elif defined(__aarch64__)
        f.arch = "aarch64";
        f.neon = (getauxval(AT_HWCAP) & HWCAP_ASIMD) != 0;
#else
        f.arch = "other";
#endif
        return f;
    }();
    return features;
}

bool isa_available(Isa isa) noexcept {
    if (!isa_compiled(isa)) return false;
    const CpuFeatures& f = cpu_features();
    switch (isa) {
        case Isa::Scalar: return true;
        case Isa::Sse41: return f.sse41;
        case Isa::Avx2: return f.avx2;
        case Isa::Neon: return f.neon;
    }
    return false;
}

std::vector<Isa> available_isas() {
    std::vector<Isa> out;
    for (int i = 0; i < kIsaCount; ++i) {
        if (isa_available(static_cast<Isa>(i))) out.push_back(static_cast<Isa>(i));
    }
    return out;
}

namespace {

std::atomic<int> g_active{-1};
std::atomic<bool> g_forced_by_env{false};
std::atomic<std::uint64_t> g_calls[kIsaCount];
std::mutex g_choose;

void require_available(Isa isa, const char* how) {
    if (isa_available(isa)) return;
    std::string why = isa_compiled(isa) ? "this CPU lacks it" : "this build does not include it";
    std::string paths;
    for (Isa a : available_isas()) paths += std::string(paths.empty() ? "" : ", ") + isa_name(a);
    throw std::invalid_argument(std::string(how) + " asks for SIMD path '" + isa_name(isa) +
                                "', but " + why + " (available here: " + paths + ")");
}

}  // namespace

Isa active_isa() {
    const int chosen = g_active.load(std::memory_order_acquire);
    if (chosen >= 0) return static_cast<Isa>(chosen);
    std::lock_guard<std::mutex> lock(g_choose);
    if (g_active.load() >= 0) return static_cast<Isa>(g_active.load());
    Isa isa = available_isas().back();  // enum order runs from slowest to fastest
    const char* env = std::getenv("FACEKIT_SIMD");
    if (env != nullptr && *env != '\0') {
        isa = isa_from_name(env);
        require_available(isa, "FACEKIT_SIMD");
        g_forced_by_env.store(true);
    }
    g_active.store(static_cast<int>(isa), std::memory_order_release);
    return isa;
}

bool isa_forced_by_environment() {
    active_isa();
    return g_forced_by_env.load();
}

void force_isa(Isa isa) {
    require_available(isa, "force_isa");
    std::lock_guard<std::mutex> lock(g_choose);
    g_active.store(static_cast<int>(isa), std::memory_order_release);
}

std::uint64_t kernel_calls(Isa isa) noexcept {
    return g_calls[static_cast<int>(isa)].load(std::memory_order_relaxed);
}

namespace kernels {

void count_call(Isa isa) noexcept {
    g_calls[static_cast<int>(isa)].fetch_add(1, std::memory_order_relaxed);
}

namespace {

// Every path starts from the scalar reference and replaces what it implements.
KernelTable scalar_table() {
    const Isa s = Isa::Scalar;
    return {{crop_normalize_scalar, s}, {box_sum_scalar, s}, {guided_coefficients_scalar, s},
            {guided_output_scalar, s},  {blend_scalar, s},   {remap_bilinear_scalar, s},
            {apply_table_scalar, s},    {lut3d_scalar, s},
            {pyr_down_rows_scalar, s}, {pyr_up_rows_scalar, s}, {masked_add_scalar, s},
            {pyr_down_cols_scalar, s}, {pyr_up_cols_scalar, s},
            {rgb_difference_scalar, s}, {rgb_add_round_scalar, s},
            {yuv_to_rgb_row_scalar, s}, {rgb_to_y_row_scalar, s}, {rgb_to_uv_row_scalar, s},
            {transform_bilinear_scalar, s}, {mask_product_scalar, s},
            {skin_likelihood_scalar, s}, {matte_output_scalar, s}};
}

KernelTable build_table(Isa isa) {
    KernelTable t = scalar_table();
    switch (isa) {
#ifdef FACEKIT_HAVE_SSE41
        case Isa::Sse41:  // crop only: the beauty kernels have no SSE4.1 variant
            t.crop_normalize = {crop_normalize_sse41, isa};
            break;
#endif
#ifdef FACEKIT_HAVE_AVX2
        case Isa::Avx2:
            t = {{crop_normalize_avx2, isa}, {box_sum_avx2, isa}, {guided_coefficients_avx2, isa},
                 {guided_output_avx2, isa},  {blend_avx2, isa},   {remap_bilinear_avx2, isa},
                 {apply_table_avx2, isa},    {lut3d_avx2, isa},
                 {pyr_down_rows_avx2, isa}, {pyr_up_rows_avx2, isa}, {masked_add_avx2, isa},
                 {pyr_down_cols_avx2, isa}, {pyr_up_cols_avx2, isa},
                 {rgb_difference_avx2, isa}, {rgb_add_round_avx2, isa},
                 {yuv_to_rgb_row_avx2, isa}, {rgb_to_y_row_avx2, isa}, {rgb_to_uv_row_avx2, isa},
                 {transform_bilinear_avx2, isa}, {mask_product_avx2, isa},
                 {skin_likelihood_avx2, isa}, {matte_output_avx2, isa}};
            break;
#endif
#ifdef FACEKIT_HAVE_NEON
        case Isa::Neon:
            t = {{crop_normalize_neon, isa}, {box_sum_neon, isa}, {guided_coefficients_neon, isa},
                 {guided_output_neon, isa},  {blend_neon, isa},   {remap_bilinear_neon, isa},
                 {apply_table_neon, isa},    {lut3d_neon, isa},
                 {pyr_down_rows_neon, isa}, {pyr_up_rows_neon, isa}, {masked_add_neon, isa},
                 {pyr_down_cols_neon, isa}, {pyr_up_cols_neon, isa},
                 {rgb_difference_neon, isa}, {rgb_add_round_neon, isa},
                 {yuv_to_rgb_row_neon, isa}, {rgb_to_y_row_neon, isa}, {rgb_to_uv_row_neon, isa},
                 {transform_bilinear_neon, isa}, {mask_product_neon, isa},
                 {skin_likelihood_neon, isa}, {matte_output_neon, isa}};
            break;
#endif
        default: break;
    }
    return t;
}

}  // namespace

const KernelTable& kernel_table(Isa isa) noexcept {
    static const KernelTable tables[kIsaCount] = {build_table(Isa::Scalar), build_table(Isa::Sse41),
                                                  build_table(Isa::Avx2), build_table(Isa::Neon)};
    return tables[static_cast<int>(isa)];
}

}  // namespace kernels

}  // namespace facekit
