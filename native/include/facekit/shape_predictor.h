// dlib's cascaded regression-tree shape predictor (Kazemi and Sullivan 2014), evaluated the way
// dlib 19/20 evaluates it, so that for the same face box it returns dlib's points. Facekit runs
// dlib's 5-point model (eye corners, base of the nose) to place the verification chip's points
// where dlib's own pipeline places them.
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

#include "facekit/arena.h"
#include "facekit/image.h"

namespace facekit {

// A face box as dlib's `rectangle`: image pixels with inclusive corners, so the model's unit
// square maps (0, 0) to (left, top) and (1, 1) to (right, bottom). (The BlazeFace detector's
// scored output box is detection.h's FaceBox.)
struct DlibRect {
    double left, top, right, bottom;
};

class ShapePredictor {
public:
    // Parses the flat form written by models/dlib_shape_predictor.py (the bytes are copied;
    // they are model weights, not biometric data). Throws std::invalid_argument naming what is
    // malformed: magic, format, sizes, or an index out of range.
    ShapePredictor(const std::uint8_t* data, std::size_t size);

    int parts() const noexcept { return parts_; }

    // Runs the cascade on `image` inside `box` and writes parts() x/y pairs (image pixels,
    // unrounded) to `out`. Pixel intensities are dlib's (r + g + b) / 3; positions outside the
    // image read 0. Working values (the sampled pixels, the evolving shape) live in `arena`.
    void predict(const ImageView& image, const DlibRect& box, double* out, Arena& arena) const;

private:
    int parts_ = 0, cascades_ = 0, trees_ = 0, depth_ = 0, features_ = 0;
    std::vector<float> mean_;                 // parts * 2
    std::vector<std::uint16_t> anchors_;      // cascades * features
    std::vector<float> offsets_;              // cascades * features * 2
    std::vector<std::uint16_t> split_pixels_; // cascades * trees * splits * 2 (idx1, idx2)
    std::vector<float> thresholds_;           // cascades * trees * splits
    std::vector<float> leaves_;               // cascades * trees * leaves * parts * 2
};

}  // namespace facekit
