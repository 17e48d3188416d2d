// The table of pixel effect steps, in the order they apply: skin first (smoothing before the
// tone changes), then makeup, then sharpen and colour grading over the finished face. Shape
// effects are not steps: their controls make one warp at the end (shape.cpp).
#include "beauty/beauty_internal.h"

namespace facekit::beauty {

const std::vector<Step>& steps() {
#define FACEKIT_STEP(name) \
    Step { [](const BeautyParams& p) { return strength_of(p.name); }, name }
    static const std::vector<Step> table = {
        FACEKIT_STEP(smoothing),
        FACEKIT_STEP(whitening),
        FACEKIT_STEP(rosy),
        FACEKIT_STEP(dark_circles),
        FACEKIT_STEP(teeth_whitening),
        FACEKIT_STEP(lipstick),
        FACEKIT_STEP(blush),
        FACEKIT_STEP(brow_tint),
        FACEKIT_STEP(eyeshadow),
        FACEKIT_STEP(sharpen),
        // The lut's strength does nothing without its table.
        Step{[](const BeautyParams& p) { return p.lut_table != nullptr ? p.lut : 0.0f; }, lut},
    };
#undef FACEKIT_STEP
    return table;
}

}  // namespace facekit::beauty
