// dlib's frontal face detector (HOG features scored by five linear filters), re-derived from its
// behaviour so that it reports dlib's box for a face: the box dlib's 5-point shape predictor was
// trained on and whose exact pixel position its points, and a face descriptor, depend on.
//
// dlib's `detector(image, 1)` upsamples the image 2x, builds a pyramid of 5/6 steps down to 64
// pixels and scores every 10x10-cell window of every level. facekit already knows where the face
// is (the mesh), so it runs only the pyramid levels and window positions near one face, and only
// the pixels those windows read, each computed exactly as dlib computes it (bilinear resizes with
// dlib's float stepping and truncation, dlib's gradient and histogram order). Everything it
// derives from the face (pyramid pixels, gradients, histograms, features) lives in the arena.
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

#include "facekit/arena.h"
#include "facekit/image.h"
#include "facekit/shape_predictor.h"

namespace facekit {

class HogFaceDetector {
public:
    // Parses the flat form written by models/dlib_hog_detector.py. Throws std::invalid_argument
    // naming what is malformed.
    HogFaceDetector(const std::uint8_t* data, std::size_t size);

    int filters() const noexcept { return static_cast<int>(thresholds_.size()); }

    // The window dlib's detector(image, 1) reports for the face whose box is about `estimate`
    // (dlib's inclusive integer corners, as doubles): the best-scoring window of any filter
    // whose side lies within 1.3x of the estimate's and whose centre lies within 0.2 of its
    // side of the estimate's centre (on 62 faces dlib's box side was 0.83 to 1.17 times the
    // mesh estimate's, its centre at most 0.1 of the side away). Returns false, leaving `box`
    // alone, when no such window reaches dlib's detection threshold (dlib would not report
    // this face), or when the face is too large to search within 32 million pyramid pixels
    // (over about 1,000 pixels wide). `score`, if given, receives the window's score minus
    // the threshold (dlib's detection confidence).
    bool find(const ImageView& image, const DlibRect& estimate, DlibRect& box, Arena& arena,
              double* score = nullptr) const;

private:
    std::vector<float> weights_;      // filters x 31 planes x 10 rows x 10 columns
    std::vector<double> thresholds_;  // one per filter
};

}  // namespace facekit
