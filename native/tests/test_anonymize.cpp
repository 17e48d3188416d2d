// Tests of the covers: an ellipse cover touches exactly the pixels whose centres lie inside the
// ellipse (any method, turned or not), keeps alpha, stretches a picture onto the ellipse, and
// refuses a bad ellipse or picture without writing a pixel.
#include <cmath>
#include <cstdint>
#include <stdexcept>
#include <vector>

#include "check.h"
#include "facekit/anonymize.h"

using facekit::testing::Rng;

namespace {

using namespace facekit;

bool inside(const CoverEllipse& e, int x, int y) {
    const double dx = x + 0.5 - e.cx, dy = y + 0.5 - e.cy;
    const double u = (dx * std::cos(e.angle) + dy * std::sin(e.angle)) / e.rx;
    const double v = (dy * std::cos(e.angle) - dx * std::sin(e.angle)) / e.ry;
    return u * u + v * v <= 1.0;
}

}  // namespace

TEST(cover_ellipse_touches_only_the_ellipse_and_keeps_alpha) {
    const int w = 97, h = 61, ch = 4;
    Rng rng(3);
    std::vector<std::uint8_t> noise(static_cast<std::size_t>(w) * h * ch);
    for (auto& p : noise) p = static_cast<std::uint8_t>(rng.uniform_int(0, 255));
    const std::uint8_t green[3] = {0, 255, 0};
    const std::uint8_t picture[2 * 2 * 3] = {9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9};
    const CoverPicture mask{picture, 2, 2, 6, 3};
    for (const Cover method : {Cover::Pixelate, Cover::Blur, Cover::Solid, Cover::Picture}) {
        for (const double angle : {0.0, 0.7}) {
            std::vector<std::uint8_t> image = noise;
            const CoverEllipse e{45.2, 30.7, 30.0, 18.0, angle};
            Arena arena;
            cover_ellipse(image.data(), w, h, w * ch, ch, e, method, 5, green, &mask, arena);
            int changed_inside = 0, count_inside = 0;
            for (int y = 0; y < h; ++y) {
                for (int x = 0; x < w; ++x) {
                    const std::size_t i = (static_cast<std::size_t>(y) * w + x) * ch;
                    bool changed = false;
                    for (int c = 0; c < 3; ++c) changed |= image[i + c] != noise[i + c];
                    CHECK(image[i + 3] == noise[i + 3]);
                    if (inside(e, x, y)) {
                        ++count_inside;
                        changed_inside += changed;
                        if (method == Cover::Solid) CHECK(image[i] == 0 && image[i + 1] == 255 && image[i + 2] == 0);
                        if (method == Cover::Picture) CHECK(image[i] == 9 && image[i + 2] == 9);
                    } else {
                        CHECK(!changed);
                    }
                }
            }
            CHECK(changed_inside > count_inside * 97 / 100);
        }
    }
}

TEST(cover_ellipse_refuses_bad_ellipses_and_pictures) {
    std::vector<std::uint8_t> image(20 * 20 * 3, 7);
    const std::uint8_t color[3] = {1, 2, 3};
    const std::uint8_t gray_pixel[1] = {5};
    const CoverPicture gray{gray_pixel, 1, 1, 1, 1};
    Arena arena;
    CHECK_THROWS_AS(cover_ellipse(image.data(), 20, 20, 60, 3, {10, 10, NAN, 5, 0}, Cover::Solid, 1, color,
                                  nullptr, arena), std::invalid_argument);
    CHECK_THROWS_AS(cover_ellipse(image.data(), 20, 20, 60, 3, {10, 10, -1, 5, 0}, Cover::Solid, 1, color,
                                  nullptr, arena), std::invalid_argument);
    CHECK_THROWS_AS(cover_ellipse(image.data(), 20, 20, 60, 3, {10, 10, 5, 5, 0}, Cover::Picture, 1, color,
                                  nullptr, arena), std::invalid_argument);
    CHECK_THROWS_AS(cover_ellipse(image.data(), 20, 20, 60, 3, {10, 10, 5, 5, 0}, Cover::Picture, 1, color,
                                  &gray, arena), std::invalid_argument);
    CHECK_THROWS_AS(cover_ellipse(image.data(), 20, 20, 60, 3, {10, 10, 5, 5, 0}, Cover::Pixelate, 0, color,
                                  nullptr, arena), std::invalid_argument);
    CHECK_THROWS_AS(cover_region(image.data(), 20, 20, 60, 3, 0, 0, 9, 9, Cover::Picture, 1, color, arena),
                    std::invalid_argument);
    for (const std::uint8_t p : image) CHECK(p == 7);
}
