// dlib's frontal face detector and 5-point shape predictor, as ported natively, against dlib-bin's
// own answers for the committed sample photo: the same box and score from a rough estimate, the
// same five points in that box. The answers come from a fixture that tests/dlib_fixture.py writes
// with dlib-bin (the dev extra); CI writes it before these tests, so the aarch64 build under qemu
// (NEON resize path, its float arithmetic) is held to dlib's x86 results too.
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "check.h"
#include "facekit/arena.h"
#include "facekit/dlib_hog.h"
#include "facekit/shape_predictor.h"

namespace {

using namespace facekit;

std::vector<std::uint8_t> read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw std::runtime_error("cannot read " + path);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

struct Fixture {
    int width = 0, height = 0;
    std::int32_t box[4];        // dlib's detector(image, 1): left, top, right, bottom
    double score = 0;           // its detection confidence
    std::int32_t points[10];    // dlib's shape predictor in that box
    std::vector<std::uint8_t> rgb;
};

// "FKFX", u32 width, height, i32 box[4], f64 score, i32 points[10], RGB bytes.
bool load_fixture(Fixture& f) {
    const char* path = std::getenv("FACEKIT_DLIB_FIXTURE");
    if (path == nullptr || *path == '\0')
        SKIP("FACEKIT_DLIB_FIXTURE is unset (python tests/dlib_fixture.py writes it; CI does)");
    const std::vector<std::uint8_t> data = read_file(path);
    const std::size_t head = 4 + 8 + 16 + 8 + 40;
    if (data.size() < head || std::memcmp(data.data(), "FKFX", 4) != 0)
        throw std::runtime_error(std::string(path) + " is not a dlib fixture");
    std::uint32_t size[2];
    std::memcpy(size, data.data() + 4, 8);
    f.width = static_cast<int>(size[0]), f.height = static_cast<int>(size[1]);
    std::memcpy(f.box, data.data() + 12, 16);
    std::memcpy(&f.score, data.data() + 28, 8);
    std::memcpy(f.points, data.data() + 36, 40);
    if (data.size() != head + static_cast<std::size_t>(f.width) * f.height * 3)
        throw std::runtime_error(std::string(path) + " has the wrong size");
    f.rgb.assign(data.begin() + head, data.end());
    return true;
}

std::vector<std::uint8_t> model(const char* name) {
    return read_file(std::string(FACEKIT_SOURCE_DIR) + "/models/" + name);
}

}  // namespace

TEST(dlib_detector_and_predictor_reproduce_dlib_on_the_sample_photo) {
    Fixture f;
    if (!load_fixture(f)) return;
    const auto hog_blob = model("dlib_frontal_face_detector.bin");
    const auto shape_blob = model("dlib_shape_predictor_5.bin");
    const HogFaceDetector detector(hog_blob.data(), hog_blob.size());
    const ShapePredictor predictor(shape_blob.data(), shape_blob.size());

    // The photo flush against a guard page: any read past its last byte faults.
    testing::Guarded pixels(f.rgb.size());
    std::memcpy(pixels.bytes(), f.rgb.data(), f.rgb.size());
    ImageView image;
    image.data = pixels.bytes(), image.width = f.width, image.height = f.height;
    image.stride = static_cast<std::ptrdiff_t>(f.width) * 3, image.format = PixelFormat::RGB;

    // A rough estimate, as the mesh gives one: dlib's box moved by 5% and grown by 10%.
    const double side = f.box[2] - f.box[0];
    const double cx = (f.box[0] + f.box[2]) / 2.0 + 0.05 * side, cy = (f.box[1] + f.box[3]) / 2.0 - 0.05 * side;
    const DlibRect estimate{cx - 0.55 * side, cy - 0.55 * side, cx + 0.55 * side, cy + 0.55 * side};
    Arena arena;
    DlibRect box{};
    double score = 0;
    REQUIRE(detector.find(image, estimate, box, arena, &score));
    CHECK_MSG(box.left == f.box[0] && box.top == f.box[1] && box.right == f.box[2] && box.bottom == f.box[3],
              "box " << box.left << "," << box.top << "," << box.right << "," << box.bottom << " vs dlib's "
                     << f.box[0] << "," << f.box[1] << "," << f.box[2] << "," << f.box[3]);
    CHECK_MSG(std::fabs(score - f.score) < 1e-3, "score " << score << " vs dlib's " << f.score);

    double points[10];
    predictor.predict(image, box, points, arena);
    for (int i = 0; i < 10; ++i)
        CHECK_MSG(std::floor(points[i] + 0.5) == f.points[i],
                  "coordinate " << i << ": " << points[i] << " vs dlib's " << f.points[i]);

    // The same pixels as BGR give the same box: the format is read, not assumed.
    std::vector<std::uint8_t> bgr(f.rgb.size());
    for (std::size_t i = 0; i < bgr.size(); i += 3)
        bgr[i] = f.rgb[i + 2], bgr[i + 1] = f.rgb[i + 1], bgr[i + 2] = f.rgb[i];
    ImageView swapped = image;
    swapped.data = bgr.data(), swapped.format = PixelFormat::BGR;
    DlibRect again{};
    REQUIRE(detector.find(swapped, estimate, again, arena));
    CHECK(again.left == box.left && again.top == box.top && again.right == box.right && again.bottom == box.bottom);
    std::printf("  box and score (%.4f) and 10 of 10 point coordinates equal dlib's\n", score);
}

TEST(dlib_detector_finds_nothing_in_a_flat_image_and_rejects_bad_models) {
    const auto hog_blob = model("dlib_frontal_face_detector.bin");
    const HogFaceDetector detector(hog_blob.data(), hog_blob.size());
    std::vector<std::uint8_t> gray(320 * 240 * 3, 128);
    ImageView image;
    image.data = gray.data(), image.width = 320, image.height = 240, image.stride = 320 * 3;
    Arena arena;
    DlibRect box{1, 2, 3, 4};
    CHECK(!detector.find(image, {100, 60, 220, 180}, box, arena));
    CHECK(box.left == 1 && box.bottom == 4);  // untouched
    CHECK_THROWS_AS(detector.find(image, {100, 60, 100, 180}, box, arena), std::invalid_argument);
    std::vector<std::uint8_t> cut(hog_blob.begin(), hog_blob.begin() + 100);
    CHECK_THROWS_AS(HogFaceDetector(cut.data(), cut.size()), std::invalid_argument);
    CHECK_THROWS_AS(HogFaceDetector(gray.data(), 64), std::invalid_argument);
}
