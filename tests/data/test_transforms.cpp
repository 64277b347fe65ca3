// Transforms against hand-computed pixels: crop with padding, flip, bilinear / bicubic resize
// (PyTorch align_corners=False values), centre crop (Python rounding), normalise, and the
// per-sample randomness that makes results independent of batch composition.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <set>
#include <utility>
#include <vector>

#include "data/transforms.h"
#include "nn/ops/shape_ops.h"
#include "tests/data/data_test_util.h"
#include "tests/test_util.h"

namespace obl {
namespace {

using test::error_of;
using ::testing::ElementsAreArray;
using ::testing::HasSubstr;

Image make_image(int64_t c, int64_t h, int64_t w, const std::vector<float>& v) {
    Image img;
    img.resize(c, h, w);
    img.v = v;
    return img;
}

TEST(Transforms, SampleRngIsACounterStream) {
    SampleRng a(7, 1, 42), b(7, 1, 42), other(7, 1, 43), epoch(7, 2, 42);
    const uint64_t first = a.next_u64();
    EXPECT_EQ(first, b.next_u64());
    EXPECT_NE(first, other.next_u64());
    EXPECT_NE(first, epoch.next_u64());
    std::set<int64_t> seen;
    for (int i = 0; i < 200; ++i) {
        const int64_t k = a.uniform_int(5);
        ASSERT_GE(k, 0);
        ASSERT_LT(k, 5);
        seen.insert(k);
        const double u = a.uniform();
        ASSERT_GE(u, 0.0);
        ASSERT_LT(u, 1.0);
    }
    EXPECT_EQ(seen.size(), 5u);
    EXPECT_THAT(error_of([&] { a.uniform_int(0); }), HasSubstr("n must be >= 1"));
}

TEST(Transforms, RandomCropWithPaddingHandComputed) {
    // 1x3x3 image 1..9, crop 3x3 with padding 1: the output is the 5x5 zero-padded image
    // cropped at padded offset (top + 1, left + 1), top and left in {-1, 0, 1}.
    const Image in = make_image(1, 3, 3, {1, 2, 3, 4, 5, 6, 7, 8, 9});
    const auto crop = random_crop(3, 3, 1);
    std::set<std::pair<int64_t, int64_t>> offsets;
    for (uint64_t index = 0; index < 200; ++index) {
        SampleRng draw(5, 0, index);
        const int64_t top = draw.uniform_int(3) - 1, left = draw.uniform_int(3) - 1;
        offsets.insert({top, left});
        SampleRng rng(5, 0, index);
        Image out;
        crop->apply(in, out, rng);
        ASSERT_EQ(out.v.size(), 9u);
        for (int64_t y = 0; y < 3; ++y)
            for (int64_t x = 0; x < 3; ++x) {
                const int64_t sy = y + top, sx = x + left;
                const float want = sy >= 0 && sy < 3 && sx >= 0 && sx < 3 ? in.at(0, sy, sx) : 0.f;
                ASSERT_EQ(out.at(0, y, x), want) << "index " << index << " y " << y << " x " << x;
            }
        if (top == -1 && left == 1) {  // written out by hand
            EXPECT_THAT(out.v, ElementsAreArray({0.f, 0.f, 0.f, 2.f, 3.f, 0.f, 5.f, 6.f, 0.f}));
        }
        if (top == 1 && left == -1) {
            EXPECT_THAT(out.v, ElementsAreArray({0.f, 4.f, 5.f, 0.f, 7.f, 8.f, 0.f, 0.f, 0.f}));
        }
    }
    EXPECT_EQ(offsets.size(), 9u) << "every offset is drawn";
    EXPECT_EQ(random_crop(32, 32, 4)->out_shape(Shape{3, 32, 32}), (Shape{3, 32, 32}));
    EXPECT_THAT(error_of([&] {
                    random_crop(40, 40, 2)->out_shape(Shape{3, 32, 32});
                }),
                HasSubstr("larger than the padded image 36x36"));
}

TEST(Transforms, HorizontalFlip) {
    const Image in = make_image(2, 2, 3, {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12});
    SampleRng rng(0, 0, 0);
    Image out;
    horizontal_flip(1.0)->apply(in, out, rng);
    EXPECT_THAT(out.v,
                ElementsAreArray({3.f, 2.f, 1.f, 6.f, 5.f, 4.f, 9.f, 8.f, 7.f, 12.f, 11.f, 10.f}));
    horizontal_flip(0.0)->apply(in, out, rng);
    EXPECT_EQ(out.v, in.v);
    // p = 0.5 flips about half of the samples.
    int flips = 0;
    for (uint64_t i = 0; i < 1000; ++i) {
        SampleRng r(3, 0, i);
        horizontal_flip(0.5)->apply(in, out, r);
        flips += out.v[0] == 3.f;
    }
    EXPECT_NEAR(flips, 500, 60);
}

TEST(Transforms, BilinearResizeMatchesPyTorch) {
    SampleRng rng(0, 0, 0);
    Image out;
    // F.interpolate([[0, 1], [2, 3]], size=(4, 4), mode="bilinear", align_corners=False):
    // per axis the weights of pixel 1 are [0, .25, .75, 1], so out[y][x] = 2 a[y] + a[x].
    resize(4, 4, InterpMode::Bilinear)->apply(make_image(1, 2, 2, {0, 1, 2, 3}), out, rng);
    const float a[4] = {0.f, 0.25f, 0.75f, 1.f};
    ASSERT_EQ(out.h, 4);
    ASSERT_EQ(out.w, 4);
    for (int y = 0; y < 4; ++y)
        for (int x = 0; x < 4; ++x) EXPECT_FLOAT_EQ(out.at(0, y, x), 2 * a[y] + a[x]);
    // Downsampling 4 -> 2 samples source 0.5 and 2.5 (no antialias).
    resize(1, 2, InterpMode::Bilinear)->apply(make_image(1, 1, 4, {0, 1, 2, 3}), out, rng);
    EXPECT_THAT(out.v, ElementsAreArray({0.5f, 2.5f}));
    // 3 -> 5: scale 0.6, sources 0 (clamped from -0.2), 0.4, 1.0, 1.6, 2.2 (index clamped).
    resize(1, 5, InterpMode::Bilinear)->apply(make_image(1, 1, 3, {0, 10, 40}), out, rng);
    const std::vector<float> want = {0.f, 4.f, 10.f, 28.f, 40.f};
    for (int i = 0; i < 5; ++i) EXPECT_NEAR(out.v[i], want[i], 1e-5) << i;
}

TEST(Transforms, BicubicResizeMatchesPyTorch) {
    SampleRng rng(0, 0, 0);
    Image out;
    // F.interpolate([[0, 1]], size=(1, 4), mode="bicubic", align_corners=False): Keys kernel with
    // A = -0.75 and border clamping gives [-0.10546875, 0.2265625, 0.7734375, 1.10546875]
    // (e.g. out[0] = cubic2(1.25) = ((A*1.25 - 5A)*1.25 + 8A)*1.25 - 4A).
    resize(1, 4, InterpMode::Bicubic)->apply(make_image(1, 1, 2, {0, 1}), out, rng);
    EXPECT_THAT(out.v, ElementsAreArray({-0.10546875f, 0.2265625f, 0.7734375f, 1.10546875f}));
    // The weights sum to one: a constant image stays constant (32 -> 224, as for ViT / Swin).
    Image flat = make_image(3, 32, 32, std::vector<float>(3 * 32 * 32, 0.3f));
    for (InterpMode mode : {InterpMode::Bilinear, InterpMode::Bicubic}) {
        resize(224, 224, mode)->apply(flat, out, rng);
        ASSERT_EQ(out.v.size(), 3u * 224 * 224);
        for (float v : out.v) ASSERT_NEAR(v, 0.3f, 1e-6);
    }
}

// The per-image resize and the differentiable interpolate op (nn/ops/shape_ops.h) implement the
// same PyTorch rules; they differ only in rounding (the op keeps weights in double).
TEST(Transforms, ResizeAgreesWithInterpolateOp) {
    const int64_t sizes[][4] = {{32, 32, 224, 224}, {64, 48, 24, 40}, {7, 5, 13, 3}, {5, 5, 5, 5}};
    for (const auto& sz : sizes)
        for (InterpMode mode : {InterpMode::Bilinear, InterpMode::Bicubic}) {
            const Tensor x = test::uniform_tensor({1, 3, sz[0], sz[1]}, 0, 1, 11);
            const Tensor ref = interpolate(x, sz[2], sz[3], mode);
            Image in, out;
            in.resize(3, sz[0], sz[1]);
            in.v = x.to_vector<float>();
            resize_image(in, out, sz[2], sz[3], mode);
            const Tensor got = Tensor::from_vector(out.v, {1, 3, sz[2], sz[3]});
            EXPECT_TRUE(test::all_close(got, ref, 1e-5, 1e-5,
                                        mode == InterpMode::Bilinear ? "bilinear" : "bicubic"))
                << sz[0] << "x" << sz[1] << " -> " << sz[2] << "x" << sz[3];
        }
}

TEST(Transforms, CenterCropRoundsLikePython) {
    // 1x6x5 image with value 10 y + x; crop 3x2: top = round(1.5) = 2, left = round(1.5) = 2.
    std::vector<float> v;
    for (int y = 0; y < 6; ++y)
        for (int x = 0; x < 5; ++x) v.push_back(static_cast<float>(10 * y + x));
    SampleRng rng(0, 0, 0);
    Image out;
    center_crop(3, 2)->apply(make_image(1, 6, 5, v), out, rng);
    EXPECT_THAT(out.v, ElementsAreArray({22.f, 23.f, 32.f, 33.f, 42.f, 43.f}));
    // 1x1 crops: round(2.5) = 2 (ties to even), round(0.5) = 0.
    center_crop(1, 1)->apply(make_image(1, 6, 5, v), out, rng);
    EXPECT_EQ(out.v[0], 22.f);
    center_crop(1, 1)->apply(make_image(1, 2, 2, {1, 2, 3, 4}), out, rng);
    EXPECT_EQ(out.v[0], 1.f);
    EXPECT_THAT(error_of([&] {
                    center_crop(7, 1)->out_shape(Shape{1, 6, 5});
                }),
                HasSubstr("larger than the image 6x5"));
}

TEST(Transforms, NormalizeAndComposeOnU8) {
    // u8 -> /255 -> normalize((0.5, 0.25), (0.5, 0.25)).
    Tensor x = Tensor::from_vector<uint8_t>({0, 51, 255, 102}, {1, 2, 1, 2});
    Compose pipeline({normalize({0.5f, 0.25f}, {0.5f, 0.25f})});
    EXPECT_EQ(pipeline.describe(), "to_float -> normalize(mean 0.5 0.25, std 0.5 0.25)");
    Tensor y = pipeline.apply(x, {0}, 0, 0);
    ASSERT_EQ(y.shape(), (Shape{1, 2, 1, 2}));
    const std::vector<float> got = y.to_vector<float>();
    EXPECT_FLOAT_EQ(got[0], -1.f);
    EXPECT_FLOAT_EQ(got[1], (51.f / 255.f - 0.5f) / 0.5f);
    EXPECT_FLOAT_EQ(got[2], 3.f);
    EXPECT_FLOAT_EQ(got[3], (102.f / 255.f - 0.25f) / 0.25f);
    EXPECT_THAT(error_of([&] { Compose({normalize({0.5f}, {0.5f})}).apply(x, {0}, 0, 0); }),
                HasSubstr("1 channel means for an image with 2 channels"));
    EXPECT_THAT(error_of([&] { normalize({0.5f}, {0.f}); }), HasSubstr("must be > 0"));
}

TEST(Transforms, RandomnessFollowsTheSampleIndexNotTheBatch) {
    // Two samples processed in either order, alone or together, get the same augmentation.
    std::vector<uint8_t> px(2 * 3 * 8 * 8);
    for (size_t i = 0; i < px.size(); ++i) px[i] = static_cast<uint8_t>(i * 7);
    Tensor both = Tensor::from_vector(px, {2, 3, 8, 8});
    Compose pipeline({random_crop(8, 8, 2), horizontal_flip(0.5), resize(16, 16)});
    EXPECT_EQ(pipeline.out_shape(Shape{3, 8, 8}), (Shape{3, 16, 16}));
    const std::vector<float> ab = pipeline.apply(both, {10, 20}, 99, 3).to_vector<float>();
    const std::vector<float> b_alone =
        pipeline.apply(both.slice0(1, 2).clone(), {20}, 99, 3).to_vector<float>();
    ASSERT_EQ(ab.size(), 2 * b_alone.size());
    EXPECT_TRUE(std::equal(b_alone.begin(), b_alone.end(), ab.begin() + b_alone.size()));
    const std::vector<float> other_epoch = pipeline.apply(both, {10, 20}, 99, 4).to_vector<float>();
    EXPECT_NE(ab, other_epoch);
}

}  // namespace
}  // namespace obl
