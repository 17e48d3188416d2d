// One dispatcher for every SIMD kernel: the path is chosen once, from the CPU and the
// FACEKIT_SIMD environment variable (scalar|sse41|avx2|neon).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace facekit {

enum class Isa : std::uint8_t { Scalar, Sse41, Avx2, Neon };
inline constexpr int kIsaCount = 4;

const char* isa_name(Isa isa) noexcept;
// Throws std::invalid_argument for a name that is not one of the four.
Isa isa_from_name(const std::string& name);

// Paths compiled into this build (scalar always).
bool isa_compiled(Isa isa) noexcept;
// Compiled and supported by the CPU running now.
bool isa_available(Isa isa) noexcept;
std::vector<Isa> available_isas();

struct CpuFeatures {
    std::string arch;
    bool sse41 = false;
    bool avx2 = false;
    bool fma = false;
    bool neon = false;
};
const CpuFeatures& cpu_features();

// The path kernels use. The first call settles it: the best available path, or the one named
// by FACEKIT_SIMD (std::invalid_argument if that name is unknown or unavailable here).
Isa active_isa();
// True when FACEKIT_SIMD chose the path.
bool isa_forced_by_environment();

// Overrides the path for this process; tests and benchmarks use it to compare paths in one run.
// Throws std::invalid_argument if the path is unavailable.
void force_isa(Isa isa);

// How many times each path's kernels have run in this process: proof of which code executed.
std::uint64_t kernel_calls(Isa isa) noexcept;

}  // namespace facekit
