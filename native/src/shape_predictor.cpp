// dlib's shape predictor, re-derived from its behaviour and checked point for point against
// dlib-bin in tests/test_verify.py. What must match dlib exactly, because a one-pixel change in
// a point moves a face descriptor by 0.01 to 0.05:
//   - the similarity from the mean shape to the current shape is solved in double from float
//     points and then used in float, as dlib's matrix_cast<float> does;
//   - feature positions are float (offset * similarity + anchor), mapped to pixels in double
//     and rounded half up;
//   - each tree's leaf is added to the shape in float, one tree after another.
#include "facekit/shape_predictor.h"

#include <cmath>
#include <cstring>
#include <stdexcept>
#include <string>

namespace facekit {

namespace {

class Cursor {
public:
    Cursor(const std::uint8_t* data, std::size_t size) : data_(data), size_(size) {}

    template <typename T>
    void read(std::vector<T>& out, std::size_t count, const char* what) {
        if (count > (size_ - pos_) / sizeof(T))
            throw std::invalid_argument(std::string("shape predictor truncated in ") + what);
        out.resize(count);
        std::memcpy(out.data(), data_ + pos_, count * sizeof(T));  // little-endian targets only
        pos_ += count * sizeof(T);
    }
    std::uint32_t u32(const char* what) {
        std::vector<std::uint32_t> v;
        read(v, 1, what);
        return v[0];
    }
    bool done() const noexcept { return pos_ == size_; }

private:
    const std::uint8_t* data_;
    std::size_t size_, pos_ = 0;
};

template <typename T>
void append(std::vector<T>& to, const std::vector<T>& from) {
    to.insert(to.end(), from.begin(), from.end());
}

// A NaN or infinity in the model would turn a feature position into a NaN pixel index, which
// no bounds check catches: every float a model holds must be finite.
void require_finite(const std::vector<float>& values, const char* what) {
    for (const float v : values)
        if (!std::isfinite(v))
            throw std::invalid_argument(std::string("shape predictor ") + what + " hold a non-finite value");
}

}  // namespace

ShapePredictor::ShapePredictor(const std::uint8_t* data, std::size_t size) {
    if (data == nullptr || size < 4 || std::memcmp(data, "FKSP", 4) != 0)
        throw std::invalid_argument("not a facekit shape predictor (magic FKSP missing)");
    Cursor in(data + 4, size - 4);
    if (const auto format = in.u32("header"); format != 1)
        throw std::invalid_argument("shape predictor format " + std::to_string(format) +
                                    " is not supported (expected 1)");
    const std::uint32_t parts = in.u32("header"), cascades = in.u32("header"),
                        trees = in.u32("header"), depth = in.u32("header"),
                        features = in.u32("header");
    if (parts < 1 || parts > 256 || cascades < 1 || cascades > 64 || trees < 1 || trees > 4096 ||
        depth < 1 || depth > 10 || features < 2 || features > 65535)
        throw std::invalid_argument("shape predictor sizes out of range");
    parts_ = static_cast<int>(parts), cascades_ = static_cast<int>(cascades);
    trees_ = static_cast<int>(trees), depth_ = static_cast<int>(depth);
    features_ = static_cast<int>(features);
    const std::size_t splits = (std::size_t{1} << depth) - 1, leaves = splits + 1;

    in.read(mean_, parts * 2, "the mean shape");
    require_finite(mean_, "mean shape coordinates");
    std::vector<std::uint16_t> u16;
    std::vector<float> f32;
    for (std::uint32_t c = 0; c < cascades; ++c) {
        in.read(u16, features, "anchors");
        for (const auto a : u16)
            if (a >= parts) throw std::invalid_argument("shape predictor anchor out of range");
        append(anchors_, u16);
        in.read(f32, features * 2, "offsets");
        require_finite(f32, "feature offsets");
        append(offsets_, f32);
    }
    for (std::size_t t = 0; t < std::size_t{cascades} * trees; ++t) {
        std::vector<std::uint16_t> idx1, idx2;
        in.read(idx1, splits, "splits");
        in.read(idx2, splits, "splits");
        for (std::size_t s = 0; s < splits; ++s) {
            if (idx1[s] >= features || idx2[s] >= features)
                throw std::invalid_argument("shape predictor split reads beyond its features");
            split_pixels_.push_back(idx1[s]);
            split_pixels_.push_back(idx2[s]);
        }
        in.read(f32, splits, "thresholds");
        require_finite(f32, "split thresholds");
        append(thresholds_, f32);
        in.read(f32, leaves * parts * 2, "leaves");
        require_finite(f32, "leaf values");
        append(leaves_, f32);
    }
    if (!in.done()) throw std::invalid_argument("shape predictor has trailing bytes");
}

void ShapePredictor::predict(const ImageView& image, const DlibRect& box, double* out,
                             Arena& arena) const {
    validate(image);
    if (!(std::isfinite(box.left) && std::isfinite(box.top) && std::isfinite(box.right) &&
          std::isfinite(box.bottom)) || !(box.right > box.left) || !(box.bottom > box.top))
        throw std::invalid_argument("face box must be finite with right > left, bottom > top");

    const int n = parts_ * 2;
    float* shape = arena.allocate_array<float>(n);
    float* pixels = arena.allocate_array<float>(features_);
    std::memcpy(shape, mean_.data(), n * sizeof(float));
    const double width = box.right - box.left, height = box.bottom - box.top;
    const ChannelMap map = rgb_channel_map(image.format);
    const int bpp = bytes_per_pixel(image.format);
    const std::size_t splits = (std::size_t{1} << depth_) - 1;
    const std::size_t leaf_size = static_cast<std::size_t>(n);

    for (int c = 0; c < cascades_; ++c) {
        // Least-squares similarity from the mean shape to the current one: [a -b; b a].
        double mf[2] = {0, 0}, mt[2] = {0, 0};
        for (int p = 0; p < parts_; ++p)
            for (int d = 0; d < 2; ++d) mf[d] += mean_[2 * p + d], mt[d] += shape[2 * p + d];
        for (int d = 0; d < 2; ++d) mf[d] /= parts_, mt[d] /= parts_;
        double den = 0, dot = 0, cross = 0;
        for (int p = 0; p < parts_; ++p) {
            const double fx = mean_[2 * p] - mf[0], fy = mean_[2 * p + 1] - mf[1];
            const double tx = shape[2 * p] - mt[0], ty = shape[2 * p + 1] - mt[1];
            den += fx * fx + fy * fy, dot += fx * tx + fy * ty, cross += fx * ty - fy * tx;
        }
        const float a = den > 0 ? static_cast<float>(dot / den) : 1.0f;
        const float b = den > 0 ? static_cast<float>(cross / den) : 0.0f;

        const std::uint16_t* anchor = anchors_.data() + static_cast<std::size_t>(c) * features_;
        const float* offset = offsets_.data() + static_cast<std::size_t>(c) * features_ * 2;
        for (int i = 0; i < features_; ++i) {
            const float dx = offset[2 * i], dy = offset[2 * i + 1];
            const float u = (a * dx + -b * dy) + shape[2 * anchor[i]];
            const float v = (b * dx + a * dy) + shape[2 * anchor[i] + 1];
            const double x = std::floor(box.left + static_cast<double>(u) * width + 0.5);
            const double y = std::floor(box.top + static_cast<double>(v) * height + 0.5);
            // Written so that a NaN position (finite leaves can still sum to infinity) reads
            // as outside the image.
            if (!(x >= 0 && y >= 0 && x < image.width && y < image.height)) {
                pixels[i] = 0.0f;
                continue;
            }
            const std::uint8_t* px = image.data + static_cast<std::ptrdiff_t>(y) * image.stride +
                                     static_cast<std::ptrdiff_t>(x) * bpp;
            const unsigned sum = bpp == 1 ? 3u * px[0] : 0u + px[map.r] + px[map.g] + px[map.b];
            pixels[i] = static_cast<float>(sum / 3);
        }

        const std::size_t first = static_cast<std::size_t>(c) * trees_;
        for (std::size_t t = first; t < first + trees_; ++t) {
            const std::uint16_t* pairs = split_pixels_.data() + t * splits * 2;
            const float* thresholds = thresholds_.data() + t * splits;
            std::size_t node = 0;
            while (node < splits)
                node = pixels[pairs[2 * node]] - pixels[pairs[2 * node + 1]] > thresholds[node]
                           ? 2 * node + 1 : 2 * node + 2;
            const float* leaf = leaves_.data() + (t * (splits + 1) + (node - splits)) * leaf_size;
            for (int k = 0; k < n; ++k) shape[k] += leaf[k];
        }
    }
    // Finite leaves can still add up to infinity, and a finite but huge box scales the shape
    // past float range (a fuzz finding): never hand out such points as a face's.
    const char* overflow =
        "shape predictor produced non-finite points (a damaged model or a box out of range)";
    for (int k = 0; k < n; ++k)
        if (!std::isfinite(shape[k])) throw std::invalid_argument(overflow);
    for (int p = 0; p < parts_; ++p) {
        out[2 * p] = box.left + static_cast<double>(shape[2 * p]) * width;
        out[2 * p + 1] = box.top + static_cast<double>(shape[2 * p + 1]) * height;
        if (!std::isfinite(static_cast<float>(out[2 * p])) ||
            !std::isfinite(static_cast<float>(out[2 * p + 1])))
            throw std::invalid_argument(overflow);
    }
}

}  // namespace facekit
