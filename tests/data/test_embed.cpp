// Real embeddings and their cache (data/embed.h): values against hand-computed preprocessing,
// cache hits and misses by key, atomic files, and corrupt files detected and recomputed.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <vector>

#include "data/embed.h"
#include "kernels/common/check.h"
#include "nn/io/safetensors.h"
#include "nn/ops.h"
#include "tests/data/data_test_util.h"

namespace obl {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

// body(x) = 2 x + bias, with one parameter so that state_digest has something to hash.
class ScaleBody : public Module {
   public:
    explicit ScaleBody(float bias) {
        bias_ = register_parameter("bias", Tensor::full(Shape{1}, bias));
    }
    Tensor forward(const Tensor& x) override {
        EXPECT_FALSE(is_training()) << "embed must run the body in eval mode";
        return add_scalar(mul_scalar(x, 2.0), bias_.to_vector<float>()[0]);
    }
    std::unique_ptr<Module> clone() const override {
        return std::make_unique<ScaleBody>(bias_.to_vector<float>()[0]);
    }

   private:
    Tensor bias_;
};

// n images of shape (2, 3, 3) u8 with pixel value (7 i + 5 c + p) % 256, labels i % 3.
std::shared_ptr<TensorDataset> tiny_images(int64_t n) {
    std::vector<uint8_t> px;
    std::vector<int64_t> y;
    for (int64_t i = 0; i < n; ++i) {
        for (int64_t c = 0; c < 2; ++c)
            for (int64_t p = 0; p < 9; ++p)
                px.push_back(static_cast<uint8_t>((7 * i + 5 * c + p) % 256));
        y.push_back(i % 3);
    }
    return std::make_shared<TensorDataset>(Tensor::from_vector(px, Shape{n, 2, 3, 3}),
                                           Tensor::from_vector(y, Shape{n}), 3);
}

EmbedOptions options() {
    EmbedOptions o;
    o.input_size = 3;
    o.mean = {0.5f, 0.25f};
    o.std = {0.5f, 2.0f};
    o.batch_size = 4;  // several batches, the last one short
    return o;
}

EmbedKey key_a() {
    EmbedKey k;
    k.model_digest = "0123456789abcdef";
    k.arch = "toy";
    k.cut = "fc";
    k.dataset = "tiny";
    k.split = "train";
    return k;
}

TEST(Embed, ValuesMatchHandComputedPreprocessing) {
    ScaleBody body(0.5f);
    body.train(true);
    auto images = tiny_images(10);
    auto e = embed(body, images, options());
    EXPECT_TRUE(body.is_training()) << "the body's mode is restored";
    ASSERT_EQ(e->x().shape(), (Shape{10, 2, 3, 3}));
    ASSERT_EQ(e->x().dtype(), DType::F32);
    EXPECT_EQ(e->y().to_vector<int64_t>(), images->y().to_vector<int64_t>());
    EXPECT_EQ(e->num_classes(), 3);
    const std::vector<float> x = e->x().to_vector<float>();
    const float mean[2] = {0.5f, 0.25f}, stdv[2] = {0.5f, 2.0f};
    for (int64_t i = 0; i < 10; ++i)
        for (int64_t c = 0; c < 2; ++c)
            for (int64_t p = 0; p < 9; ++p) {
                const double v = ((7 * i + 5 * c + p) % 256) / 255.0;
                const double want = 2.0 * (v - mean[c]) / stdv[c] + 0.5;
                EXPECT_NEAR(x[static_cast<size_t>((i * 2 + c) * 9 + p)], want, 1e-5)
                    << "image " << i << " channel " << c << " pixel " << p;
            }
    // Deterministic: the same call gives bit-identical rows.
    EXPECT_EQ(embed(body, images, options())->x().to_vector<float>(), x);
}

TEST(Embed, ResizesToTheInputSizeAndChecksChannels) {
    ScaleBody body(0.f);
    EmbedOptions o = options();
    o.input_size = 5;
    EXPECT_EQ(embed(body, tiny_images(3), o)->x().shape(), (Shape{3, 2, 5, 5}));
    o.mean = {0.5f, 0.5f, 0.5f};
    o.std = {1.f, 1.f, 1.f};
    try {
        embed(body, tiny_images(3), o);
        FAIL() << "3 means for 2 channels must throw";
    } catch (const Error& e) {
        EXPECT_THAT(e.what(), HasSubstr("images have 2 channels but mean/std have 3/3"));
    }
    // Already-embedded (float) data is refused.
    auto floats = std::make_shared<TensorDataset>(Tensor::zeros(Shape{2, 2, 3, 3}),
                                                  Tensor::zeros(Shape{2}, DType::I64), 3);
    EXPECT_THROW(embed(body, floats, options()), Error);
}

TEST(Embed, StateDigestFollowsTheWeights) {
    ScaleBody a(0.5f), b(0.5f), c(0.25f);
    EXPECT_EQ(state_digest(a), state_digest(b));
    EXPECT_NE(state_digest(a), state_digest(c));
    EXPECT_EQ(state_digest(a).size(), 16u);
    EmbedKey k1 = key_a(), k2 = key_a();
    EXPECT_EQ(k1.hash(), k2.hash());
    for (int field = 0; field < 7; ++field) {
        EmbedKey k = key_a();
        if (field == 0) k.model_digest = "0123456789abcdee";
        if (field == 1) k.arch = "toy2";
        if (field == 2) k.cut = "pool";
        if (field == 3) k.dataset = "tiny2";
        if (field == 4) k.split = "test";
        if (field == 5) k.val_per_class = 1;
        if (field == 6) k.input_size = 224;
        EXPECT_NE(k.hash(), k1.hash()) << "field " << field;
    }
}

TEST(EmbedCache, HitMissAndKeyedFiles) {
    test::TempDir dir("embed_cache");
    const std::string cache = dir / "cache";
    ScaleBody body(0.5f);
    auto images = tiny_images(7);
    int computed = 0;
    std::vector<std::string> warnings;
    auto compute = [&] {
        ++computed;
        return embed(body, images, options());
    };
    auto warn = [&](const std::string& w) { warnings.push_back(w); };

    const CachedEmbeddings first = cached_embeddings(cache, key_a(), compute, warn);
    EXPECT_FALSE(first.hit);
    EXPECT_EQ(computed, 1);
    EXPECT_EQ(first.path, cache + "/" + key_a().hash() + ".safetensors");
    ASSERT_TRUE(fs::exists(first.path));
    // No temporary files left behind by the atomic write.
    EXPECT_EQ(std::distance(fs::directory_iterator(cache), fs::directory_iterator{}), 1);

    const CachedEmbeddings second = cached_embeddings(cache, key_a(), compute, warn);
    EXPECT_TRUE(second.hit);
    EXPECT_EQ(computed, 1);
    EXPECT_EQ(second.data->x().to_vector<float>(), first.data->x().to_vector<float>());
    EXPECT_EQ(second.data->y().to_vector<int64_t>(), first.data->y().to_vector<int64_t>());
    EXPECT_EQ(second.data->num_classes(), 3);

    EmbedKey other = key_a();
    other.split = "test";
    const CachedEmbeddings third = cached_embeddings(cache, other, compute, warn);
    EXPECT_FALSE(third.hit);
    EXPECT_EQ(computed, 2);
    EXPECT_NE(third.path, first.path);
    EXPECT_TRUE(warnings.empty());

    // The metadata records the key.
    const SafetensorsFile f = read_safetensors(first.path);
    EXPECT_EQ(f.metadata.at("key"), key_a().hash());
    EXPECT_EQ(f.metadata.at("split"), "train");
    EXPECT_EQ(f.metadata.at("rows"), "7");
}

TEST(EmbedCache, CorruptFilesAreDetectedAndRecomputed) {
    test::TempDir dir("embed_corrupt");
    const std::string cache = dir / "cache";
    ScaleBody body(0.5f);
    auto images = tiny_images(6);
    int computed = 0;
    std::vector<std::string> warnings;
    auto compute = [&] {
        ++computed;
        return embed(body, images, options());
    };
    auto warn = [&](const std::string& w) { warnings.push_back(w); };
    const std::string path = cached_embeddings(cache, key_a(), compute, warn).path;
    const std::vector<float> good = read_embeddings(path, key_a())->x().to_vector<float>();
    auto bytes = [&] {
        std::ifstream in(path, std::ios::binary);
        return std::vector<char>((std::istreambuf_iterator<char>(in)), {});
    };
    auto write = [&](const std::vector<char>& b) {
        std::ofstream out(path, std::ios::binary | std::ios::trunc);
        out.write(b.data(), static_cast<std::streamsize>(b.size()));
    };
    const std::vector<char> original = bytes();

    // 1. One flipped bit in the data section: the checksum catches it.
    std::vector<char> flipped = original;
    flipped[flipped.size() - 100] ^= 0x10;
    write(flipped);
    try {
        read_embeddings(path, key_a());
        FAIL() << "a flipped data bit must be detected";
    } catch (const Error& e) {
        EXPECT_THAT(e.what(), HasSubstr("checksum"));
    }
    auto again = cached_embeddings(cache, key_a(), compute, warn);
    EXPECT_FALSE(again.hit);
    EXPECT_EQ(computed, 2);
    ASSERT_EQ(warnings.size(), 1u);
    EXPECT_THAT(warnings[0], HasSubstr("warning: ignoring invalid embedding cache file"));
    EXPECT_THAT(warnings[0], HasSubstr(path));
    EXPECT_EQ(again.data->x().to_vector<float>(), good);
    EXPECT_EQ(bytes(), original) << "the recomputed file replaces the corrupt one";

    // 2. A truncated file (a copy cut short).
    write(std::vector<char>(original.begin(), original.begin() + original.size() / 2));
    EXPECT_FALSE(cached_embeddings(cache, key_a(), compute, warn).hit);
    EXPECT_EQ(computed, 3);
    EXPECT_EQ(warnings.size(), 2u);

    // 3. A valid file made for another key, sitting under this key's name.
    EmbedKey other = key_a();
    other.cut = "pool";
    write_embeddings(path, *embed(body, images, options()), other);
    try {
        read_embeddings(path, key_a());
        FAIL() << "a file of another key must be refused";
    } catch (const Error& e) {
        EXPECT_THAT(e.what(), HasSubstr("made for"));
    }
    EXPECT_FALSE(cached_embeddings(cache, key_a(), compute, warn).hit);
    EXPECT_EQ(computed, 4);
    EXPECT_EQ(warnings.size(), 3u);
    EXPECT_TRUE(cached_embeddings(cache, key_a(), compute, warn).hit);
    EXPECT_EQ(computed, 4);
}

TEST(EmbedCache, WriteRefusesBadData) {
    test::TempDir dir("embed_bad");
    TensorDataset ints(Tensor::zeros(Shape{2, 3}, DType::I32), Tensor::zeros(Shape{2}, DType::I64),
                       2);
    EXPECT_THROW(write_embeddings(dir / "x.safetensors", ints, key_a()), Error);
    EXPECT_FALSE(fs::exists(dir / "x.safetensors"));
}

}  // namespace
}  // namespace obl
