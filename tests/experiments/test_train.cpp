// `oblivio train` (experiments/train.h): recipe parsing and validation, the recipe hash (checked
// against an independent FNV-1a of the hand-written field list), and the training loop on a tiny
// in-memory problem: fmnist_cnn on 1x8x8 images of four separable patterns (the CNN ends in a
// global average pool, so it takes any input size). Checked: it learns (loss drops, accuracy far
// above the 25% chance level), the same seed is bit-identical (whatever the loader threads), a
// run stopped after one epoch and resumed writes the same bytes as an uninterrupted one, a
// checkpoint of another recipe is refused naming both hashes, exclude_classes removes the class
// from training, a diverging run (NaN/Inf loss, or NaN/Inf weights after a step) throws naming
// the epoch and step, writes and replaces nothing and keeps the last good checkpoint, a finished
// run removes the temporaries of killed writers, and the output loads with load_zoo_model. Also the
// random-rotation resampling on hand-computed images. TrainSlow: one epoch of the real
// Fashion-MNIST.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <string>
#include <vector>

#include "data/catalog.h"
#include "data/transforms.h"
#include "experiments/train.h"
#include "models/zoo.h"
#include "nn/autograd.h"
#include "nn/io/safetensors.h"
#include "tests/data/data_test_util.h"
#include "tests/test_util.h"
#include "unlearn/train_loop.h"

namespace obl {
namespace {

using test::error_of;
using test::TempDir;
using test::write_text;
using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::Not;

std::vector<char> file_bytes(const std::string& path) {
    std::ifstream f(path, std::ios::binary);
    return std::vector<char>(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
}

bool exists(const std::string& path) { return std::filesystem::exists(path); }

// ---- recipes ------------------------------------------------------------------------------------

TEST(TrainRecipe, LoadsAFileThenAppliesOverrides) {
    TempDir dir("train_recipe");
    write_text(dir / "r.yaml",
               "# a comment\n"
               "arch: fmnist_cnn\n"
               "dataset: fmnist\n"
               "epochs: 3\n"
               "batch_size: 64\n"
               "lr: 0.05\n"
               "nesterov: true\n"
               "schedule: multistep\n"
               "milestones: [1, 2]\n"
               "label_smoothing: 0.1\n"
               "exclude_classes: []\n");
    const TrainRecipe r = load_recipe(dir / "r.yaml", {{"lr", "0.2"}, {"exclude_classes", "3,5"}});
    EXPECT_EQ(r.arch, "fmnist_cnn");
    EXPECT_EQ(r.dataset, "fmnist");
    EXPECT_EQ(r.epochs, 3);
    EXPECT_EQ(r.batch_size, 64);
    EXPECT_EQ(r.lr, 0.2);  // the override wins
    EXPECT_TRUE(r.nesterov);
    EXPECT_EQ(r.schedule, "multistep");
    EXPECT_EQ(r.milestones, (std::vector<int>{1, 2}));
    EXPECT_EQ(r.label_smoothing, 0.1);
    EXPECT_EQ(r.exclude_classes, (std::vector<int>{3, 5}));
    EXPECT_EQ(r.momentum, 0.9);  // untouched default
}

TEST(TrainRecipe, UnknownKeyListsTheValidKeysAndNamesTheFile) {
    TempDir dir("train_recipe");
    write_text(dir / "bad.yaml", "arch: fmnist_cnn\nlearning_rate: 0.1\n");
    EXPECT_THAT(error_of([&] { load_recipe(dir / "bad.yaml"); }),
                AllOf(HasSubstr("bad.yaml:2"), HasSubstr("unknown key 'learning_rate'"),
                      HasSubstr("valid keys: arch, dataset"), HasSubstr("label_smoothing")));
    EXPECT_THAT(error_of([&] { load_recipe(dir / "bad.yaml", {}); }), HasSubstr("bad.yaml"));
    TrainRecipe r;
    EXPECT_THAT(error_of([&] { set_recipe_field(r, "epoch", "3", "--set"); }),
                HasSubstr("unknown key 'epoch'"));
}

TEST(TrainRecipe, BadTypesNaNAndNegativeValuesNameTheKey) {
    TempDir dir("train_recipe");
    const std::vector<std::pair<std::string, std::string>> cases = {
        {"epochs: abc\n", "'epochs'"},
        {"epochs: 2.5\n", "'epochs'"},
        {"epochs: -3\n", "'epochs'"},
        {"epochs: 0\n", "'epochs'"},
        {"lr: .nan\n", "'lr'"},
        {"lr: nan\n", "'lr'"},
        {"lr: inf\n", "'lr'"},
        {"lr: -0.1\n", "'lr'"},
        {"momentum: 1.5\n", "'momentum'"},
        {"nesterov: maybe\n", "'nesterov'"},
        {"milestones: [1, x]\n", "'milestones'"},
        {"lr: {a: 1}\n", "nested map"},
        {"exclude_classes: [-1]\n", "'exclude_classes'"},
    };
    for (const auto& [text, want] : cases) {
        SCOPED_TRACE(text);
        write_text(dir / "r.yaml", "arch: fmnist_cnn\n" + text);
        EXPECT_THAT(error_of([&] { load_recipe(dir / "r.yaml"); }),
                    AllOf(HasSubstr("r.yaml:2"), HasSubstr(want)));
    }
    write_text(dir / "ok.yaml", "arch: fmnist_cnn\n");
    EXPECT_THAT(error_of([&] {
                    load_recipe(dir / "ok.yaml", {{"epochs", "-1"}});
                }),
                AllOf(HasSubstr("--set epochs=-1"), HasSubstr("bad value '-1' for 'epochs'"),
                      HasSubstr(">= 1")));
    EXPECT_THAT(error_of([&] { load_recipe(dir / "missing.yaml"); }),
                HasSubstr("cannot read recipe file"));
    write_text(dir / "list.yaml", "- 1\n- 2\n");
    EXPECT_THAT(error_of([&] { load_recipe(dir / "list.yaml"); }), HasSubstr("flat map"));
}

TEST(TrainRecipe, CheckRejectsUnknownNamesAndInconsistencies) {
    TrainRecipe r;
    r.arch = "resnet19";
    EXPECT_THAT(error_of([&] { check_recipe(r); }),
                AllOf(HasSubstr("unknown model 'resnet19'"), HasSubstr("fmnist_cnn")));
    r = TrainRecipe{};
    r.dataset = "imagenet";
    EXPECT_THAT(error_of([&] { check_recipe(r); }),
                AllOf(HasSubstr("unknown dataset 'imagenet'"), HasSubstr("cifar10")));
    r = TrainRecipe{};
    r.schedule = "linear";
    EXPECT_THAT(error_of([&] { check_recipe(r); }), HasSubstr("unknown schedule 'linear'"));
    r = TrainRecipe{};
    r.schedule = "multistep";
    EXPECT_THAT(error_of([&] { check_recipe(r); }), HasSubstr("needs milestones"));
    r = TrainRecipe{};
    r.warmup_epochs = r.epochs;
    EXPECT_THAT(error_of([&] { check_recipe(r); }), HasSubstr("warmup_epochs"));
    r = TrainRecipe{};
    r.exclude_classes = {2, 2};
    EXPECT_THAT(error_of([&] { check_recipe(r); }), HasSubstr("class 2 twice"));
    r = TrainRecipe{};
    r.num_classes = 3;
    r.exclude_classes = {3};
    EXPECT_THAT(error_of([&] { check_recipe(r); }), HasSubstr("outside [0, 3)"));
    r.exclude_classes = {0, 1, 2};
    EXPECT_THAT(error_of([&] { check_recipe(r); }), HasSubstr("no class to train"));
    r = TrainRecipe{};
    r.lr = std::nan("");
    EXPECT_THAT(error_of([&] { check_recipe(r); }), HasSubstr("'lr'"));
    EXPECT_NO_THROW(check_recipe(TrainRecipe{}));
}

TEST(TrainRecipe, HashIsFnv1aOfTheFieldListAndIgnoresWorkers) {
    // config_hash: FNV-1a 64 over "train_recipe\n" then "name=value\n" per field, in declaration
    // order, every field but `workers` (written out by hand here, from the defaults).
    const std::string text =
        "train_recipe\narch=cifar_resnet20\ndataset=cifar10\nnum_classes=0\nepochs=30\n"
        "batch_size=128\nlr=0.1\nmomentum=0.9\nweight_decay=0.0005\nnesterov=false\n"
        "label_smoothing=0\nschedule=cosine\nstep_size=30\nmilestones=\ngamma=0.1\n"
        "warmup_epochs=0\naugment=true\ncrop_padding=4\nrotation=0\nresize=0\ninterpolation="
        "bilinear\n"
        "val_per_class=0\n"
        "exclude_classes=\nseed=0\n";
    uint64_t h = 0xcbf29ce484222325ull;  // FNV-1a 64 offset basis and prime
    for (unsigned char c : text) h = (h ^ c) * 0x100000001b3ull;
    char want[17];
    std::snprintf(want, sizeof(want), "%016llx", static_cast<unsigned long long>(h));
    TrainRecipe r;
    EXPECT_EQ(recipe_hash(r), want);
    r.workers = 7;
    EXPECT_EQ(recipe_hash(r), want);
    r.lr = 0.1000001;
    EXPECT_NE(recipe_hash(r), want);
    r = TrainRecipe{};
    r.exclude_classes = {3};
    EXPECT_NE(recipe_hash(r), want);
    // The same recipe from a file gives the same hash.
    TempDir dir("train_recipe");
    write_text(dir / "r.yaml", "lr: 0.10\nexclude_classes: [3]\nworkers: 1\n");
    EXPECT_EQ(recipe_hash(load_recipe(dir / "r.yaml")), recipe_hash(r));
}

// ---- the random rotation ---------------------------------------------------------------------

Image image_of(int64_t h, int64_t w, std::vector<float> v) {
    Image im;
    im.resize(1, h, w);
    im.v = std::move(v);
    return im;
}

TEST(RandomRotation, QuarterTurnIsNumpyRot90) {
    const Image in = image_of(3, 3, {1, 2, 3, 4, 5, 6, 7, 8, 9});
    Image out;
    rotate_image(in, out, 90);  // counter-clockwise, like np.rot90
    EXPECT_EQ(out.v, (std::vector<float>{3, 6, 9, 2, 5, 8, 1, 4, 7}));
    rotate_image(in, out, -90);
    EXPECT_EQ(out.v, (std::vector<float>{7, 4, 1, 8, 5, 2, 9, 6, 3}));
    rotate_image(in, out, 0);
    EXPECT_EQ(out.v, in.v);
}

TEST(RandomRotation, CornersOutsideTheSourceAreZero) {
    // 4x4 by 45 degrees: output pixel (0, 0) is (u, v) = (-1.5, -1.5) from the centre and reads
    // source x = cos a u - sin a v + 1.5 = 1.5, y = sin a u + cos a v + 1.5 = -0.62 -> row
    // round(-0.62) = -1: outside, so 0; the same for the other corners.
    std::vector<float> v(16);
    for (int i = 0; i < 16; ++i) v[static_cast<size_t>(i)] = static_cast<float>(i + 1);
    const Image in = image_of(4, 4, v);
    Image out;
    rotate_image(in, out, 45);
    EXPECT_EQ(out.at(0, 0, 0), 0.f);
    EXPECT_EQ(out.at(0, 0, 3), 0.f);
    EXPECT_EQ(out.at(0, 3, 0), 0.f);
    EXPECT_EQ(out.at(0, 3, 3), 0.f);
    // Pixel (y 1, x 1): u = v = -0.5, source x = c*u - s*v + 1.5 = 1.5 -> 2 (half to even),
    // y = s*u + c*v + 1.5 = 0.793 -> 1: value in[1][2] = 7.
    EXPECT_EQ(out.at(0, 1, 1), 7.f);
    // The transform: max angle 0 is the identity; the draw depends on the sample's stream only.
    SampleRng rng(1, 2, 3);
    Image same;
    random_rotation(0)->apply(in, same, rng);
    EXPECT_EQ(same.v, in.v);
    EXPECT_THAT(error_of([] { random_rotation(181); }), HasSubstr("outside [0, 180]"));
}

// ---- training on a tiny problem ---------------------------------------------------------------

// n images per class of 1x8x8 in [0, 1]: 0 horizontal stripes, 1 vertical stripes, 2 a
// checkerboard, 3 flat grey; plus uniform noise in [-0.15, 0.15].
std::shared_ptr<TensorDataset> toy_set(int64_t per_class, uint64_t seed) {
    const int64_t n = 4 * per_class;
    const std::vector<double> noise = test::uniform_values(n * 64, -0.15, 0.15, seed);
    std::vector<float> x(static_cast<size_t>(n * 64));
    std::vector<int64_t> y(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) {
        const int64_t c = i % 4;
        y[static_cast<size_t>(i)] = c;
        for (int64_t r = 0; r < 8; ++r)
            for (int64_t q = 0; q < 8; ++q) {
                double v = 0.5;
                if (c == 0) v = r % 2 ? 0.9 : 0.1;
                if (c == 1) v = q % 2 ? 0.9 : 0.1;
                if (c == 2) v = (r + q) % 2 ? 0.9 : 0.1;
                const size_t k = static_cast<size_t>(i * 64 + r * 8 + q);
                x[k] = static_cast<float>(v + noise[k]);
            }
    }
    return std::make_shared<TensorDataset>(Tensor::from_vector(x, Shape{n, 1, 8, 8}),
                                           Tensor::from_vector(y, Shape{n}), 4);
}

TrainRecipe toy_recipe() {
    TrainRecipe r;
    r.arch = "fmnist_cnn";
    r.dataset = "fmnist";  // recorded only: train_on gets the data
    r.epochs = 3;
    r.batch_size = 32;
    r.lr = 0.05;
    r.weight_decay = 5e-4;
    r.schedule = "cosine";
    r.augment = false;
    r.seed = 7;
    r.workers = 0;
    return r;
}

TEST(Train, LearnsASeparableToySetAndTheOutputLoads) {
    TempDir dir("train_run");
    const auto data = toy_set(64, 1);
    const std::string out = dir / "toy.safetensors";
    int kept = 0;
    TrainOptions o;
    o.progress = [&](const std::string& line, bool keep) {
        kept += keep;
        EXPECT_THAT(line, HasSubstr("epoch"));
    };
    const TrainOutcome r = train_on(toy_recipe(), data, toy_set(16, 2), out, o);
    ASSERT_TRUE(r.finished);
    EXPECT_EQ(kept, 3);
    ASSERT_EQ(r.history.size(), 3u);
    EXPECT_EQ(r.resumed_from_epoch, -1);
    EXPECT_EQ(r.history[0].images, 256);
    // Cosine over 3 epochs: lr 0.05, 0.05 (1 + cos(pi / 3)) / 2 = 0.0375, 0.0125.
    EXPECT_DOUBLE_EQ(r.history[0].lr, 0.05);
    EXPECT_NEAR(r.history[1].lr, 0.0375, 1e-12);
    EXPECT_NEAR(r.history[2].lr, 0.0125, 1e-12);
    EXPECT_LT(r.history[2].loss, 0.5 * r.history[0].loss);
    EXPECT_GT(r.history[2].train_acc, 0.9);
    EXPECT_GT(r.history[2].val_acc, 0.9);  // chance: 0.25
    EXPECT_FALSE(exists(out + ".ckpt"));

    const LoadedModel loaded = load_zoo_model(out, "fmnist_cnn");
    EXPECT_EQ(loaded.metadata.at("num_classes"), "4");
    EXPECT_EQ(loaded.metadata.at("dataset"), "fmnist");
    EXPECT_EQ(loaded.metadata.at("epochs"), "3");
    EXPECT_EQ(loaded.metadata.at("exclude_classes"), "");
    EXPECT_EQ(loaded.metadata.at("recipe_hash"), r.recipe_hash);
    EXPECT_THAT(loaded.metadata.at("recipe"),
                AllOf(HasSubstr("\"arch\": \"fmnist_cnn\""), HasSubstr("\"num_classes\": 4"),
                      HasSubstr("\"milestones\": []"), HasSubstr("\"augment\": false")));
    const Accuracy a = evaluate_accuracy(*loaded.model, toy_set(16, 3),
                                         eval_transforms(toy_recipe()), Device::cpu());
    EXPECT_GT(a.top1, 0.9);
    const Accuracy b =
        evaluate_accuracy(*r.model, toy_set(16, 3), eval_transforms(toy_recipe()), Device::cpu());
    EXPECT_EQ(a.correct, b.correct);
}

// Every tensor of a safetensors file, as raw values.
std::map<std::string, std::vector<double>> tensors_of(const std::string& path) {
    std::map<std::string, std::vector<double>> out;
    for (const auto& [name, t] : read_safetensors(path).tensors) out[name] = t.to_vector<double>();
    return out;
}

TEST(Train, SameSeedIsBitIdenticalWhateverTheLoaderThreads) {
    TempDir dir("train_run");
    const auto data = toy_set(32, 1);
    TrainRecipe r = toy_recipe();
    r.epochs = 2;
    r.augment = true;  // random crops and flips must be reproducible too
    r.crop_padding = 1;
    train_on(r, data, nullptr, dir / "a.safetensors");
    train_on(r, data, nullptr, dir / "a2.safetensors");
    r.workers = 2;  // recorded in the metadata, so compare the tensors
    train_on(r, data, nullptr, dir / "b.safetensors");
    r.seed = 8;
    train_on(r, data, nullptr, dir / "c.safetensors");
    const std::vector<char> a = file_bytes(dir / "a.safetensors");
    ASSERT_FALSE(a.empty());
    EXPECT_TRUE(a == file_bytes(dir / "a2.safetensors"));
    EXPECT_TRUE(tensors_of(dir / "a.safetensors") == tensors_of(dir / "b.safetensors"));
    EXPECT_FALSE(tensors_of(dir / "a.safetensors") == tensors_of(dir / "c.safetensors"));
}

TEST(Train, StoppedAndResumedRunIsBitIdenticalToAnUninterruptedOne) {
    TempDir dir("train_run");
    const auto data = toy_set(32, 1);
    TrainRecipe r = toy_recipe();
    r.momentum = 0.9;
    r.nesterov = true;  // the momentum buffers must survive the checkpoint
    const std::string whole = dir / "whole.safetensors", parts = dir / "parts.safetensors";
    const TrainOutcome w = train_on(r, data, nullptr, whole);
    ASSERT_TRUE(w.finished);

    TrainOptions stop;
    stop.stop_after_epochs = 1;
    const TrainOutcome first = train_on(r, data, nullptr, parts, stop);
    EXPECT_FALSE(first.finished);
    EXPECT_EQ(first.history.size(), 1u);
    EXPECT_FALSE(exists(parts));
    ASSERT_TRUE(exists(parts + ".ckpt"));
    std::string resumed_line;
    TrainOptions o;
    o.progress = [&](const std::string& line, bool keep) {
        if (keep && line.find("resuming") != std::string::npos) resumed_line = line;
    };
    const TrainOutcome rest = train_on(r, data, nullptr, parts, o);
    EXPECT_TRUE(rest.finished);
    EXPECT_EQ(rest.resumed_from_epoch, 1);
    EXPECT_THAT(resumed_line, HasSubstr("after epoch 1 of 3"));
    ASSERT_EQ(rest.history.size(), 3u);
    EXPECT_EQ(rest.history[0].loss, w.history[0].loss);
    EXPECT_EQ(rest.history[2].loss, w.history[2].loss);
    EXPECT_FALSE(exists(parts + ".ckpt"));
    EXPECT_TRUE(file_bytes(whole) == file_bytes(parts));
}

TEST(Train, CheckpointOfAnotherRecipeIsRefusedNamingBothHashes) {
    TempDir dir("train_run");
    const auto data = toy_set(16, 1);
    TrainRecipe r = toy_recipe();
    const std::string out = dir / "m.safetensors";
    TrainOptions stop;
    stop.stop_after_epochs = 1;
    const TrainOutcome first = train_on(r, data, nullptr, out, stop);
    ASSERT_TRUE(exists(out + ".ckpt"));
    TrainRecipe other = r;
    other.lr = 0.01;
    const std::string err = error_of([&] { train_on(other, data, nullptr, out); });
    EXPECT_THAT(err, AllOf(HasSubstr("different recipe"), HasSubstr(first.recipe_hash),
                           HasSubstr(recipe_hash([&] {
                               TrainRecipe x = other;
                               x.num_classes = 4;
                               return x;
                           }()))));
    EXPECT_TRUE(exists(out + ".ckpt"));  // never silently overwritten
    EXPECT_FALSE(exists(out));
}

TEST(Train, ExcludedClassesAreLeftOutOfTraining) {
    TempDir dir("train_run");
    TrainRecipe r = toy_recipe();
    r.exclude_classes = {1};
    const std::string out = dir / "oracle.safetensors";
    const TrainOutcome o = train_on(r, toy_set(64, 1), toy_set(16, 2), out);
    ASSERT_TRUE(o.finished);
    for (const TrainEpoch& e : o.history) EXPECT_EQ(e.images, 192);  // 256 minus class 1's 64
    const Accuracy a =
        evaluate_accuracy(*o.model, toy_set(16, 3), eval_transforms(r), Device::cpu());
    ASSERT_EQ(a.count.size(), 4u);  // same head size
    EXPECT_EQ(a.correct[1], 0);     // never trained on, never predicted
    for (int c : {0, 2, 3}) EXPECT_GT(a.per_class(c), 0.9) << "class " << c;
    const LoadedModel loaded = load_zoo_model(out, "fmnist_cnn");
    EXPECT_EQ(loaded.metadata.at("exclude_classes"), "1");
    EXPECT_EQ(loaded.model->num_classes(), 4);
}

TEST(Train, DivergingRunThrowsNamingEpochAndStepAndWritesNothing) {
    TempDir dir("train_run");
    TrainRecipe r = toy_recipe();
    r.lr = 1e30;
    const std::string out = dir / "nan.safetensors";
    EXPECT_THAT(error_of([&] { train_on(r, toy_set(16, 1), nullptr, out); }),
                AllOf(HasSubstr("training diverged"), HasSubstr("at epoch 1 step")));
    EXPECT_FALSE(exists(out));
    EXPECT_FALSE(exists(out + ".ckpt"));
}

// One step per epoch (a single batch) at an absurd lr: the loss of that step is still finite (it
// is computed before the step), but w - 1e300 * g overflows f32 to +-inf. Only the check after
// the step catches it; a pre-existing output file must come through untouched.
TEST(Train, NonFiniteWeightsAfterTheLastStepStopTrainingAndReplaceNothing) {
    TempDir dir("train_run");
    TrainRecipe r = toy_recipe();
    r.epochs = 1;
    r.batch_size = 32;
    r.lr = 1e300;
    const std::string out = dir / "inf.safetensors";
    write_text(out, "the previous model");
    const std::string err = error_of([&] { train_on(r, toy_set(8, 1), nullptr, out); });
    EXPECT_THAT(err, AllOf(HasSubstr("training diverged at epoch 1 step 1 of 1: '"),
                           HasSubstr("' is not finite after the step (lr 1e+300)"),
                           HasSubstr("lower lr"), HasSubstr(out + " was not written")));
    EXPECT_THAT(err, Not(HasSubstr("keeps the last good epoch")));
    const std::vector<char> kept = file_bytes(out);
    EXPECT_TRUE(std::string(kept.begin(), kept.end()) == "the previous model")
        << out << " was replaced (" << kept.size() << " bytes)";
    EXPECT_FALSE(exists(out + ".ckpt"));
}

// Epoch 1 trains normally (lr 0.05) and is checkpointed; the multistep schedule then multiplies
// the lr by 1e300 at epoch 2. The run must stop at epoch 2's first step, write no model, and
// leave the checkpoint of epoch 1 exactly as a run stopped cleanly after epoch 1 leaves it.
TEST(Train, DivergenceAfterAGoodEpochKeepsThatEpochsCheckpoint) {
    TempDir dir("train_run");
    const auto data = toy_set(16, 1);  // 64 images: 2 steps of 32
    TrainRecipe r = toy_recipe();
    r.epochs = 2;
    r.schedule = "multistep";
    r.milestones = {1};
    r.gamma = 1e300;
    const std::string out = dir / "m.safetensors";
    const std::string err = error_of([&] { train_on(r, data, nullptr, out); });
    EXPECT_THAT(err, AllOf(HasSubstr("training diverged at epoch 2 step 1 of 2: "),
                           HasSubstr(out + ".ckpt keeps the last good epoch")));
    EXPECT_FALSE(exists(out));
    ASSERT_TRUE(exists(out + ".ckpt"));
    EXPECT_EQ(read_safetensors(out + ".ckpt").metadata.at("epochs_done"), "1");

    const std::string clean = dir / "clean.safetensors";
    TrainOptions stop;
    stop.stop_after_epochs = 1;
    train_on(r, data, nullptr, clean, stop);
    const auto good = tensors_of(clean + ".ckpt");
    EXPECT_TRUE(tensors_of(out + ".ckpt") == good);
    for (const auto& [name, values] : good)
        for (double v : values) ASSERT_TRUE(std::isfinite(v)) << name;
}

// A writer killed inside write_file_atomic leaves `<name>.tmp.<pid>`. A finished run removes
// those of its model and of its checkpoint whose process is gone (here: a child that exited),
// and keeps a live process's (the parent's) and files that only look similar.
TEST(Train, TemporariesOfKilledWritersAreRemoved) {
    TempDir dir("train_run");
    const std::string out = dir / "m.safetensors";
    const pid_t child = ::fork();
    if (child == 0) ::_exit(0);
    ASSERT_GT(child, 0);
    ASSERT_EQ(::waitpid(child, nullptr, 0), child);
    const std::string dead = std::to_string(child), live = std::to_string(::getppid());
    for (const std::string& name : {out + ".tmp." + dead, out + ".ckpt.tmp." + dead,
                                    out + ".tmp." + live, out + ".tmp.x" + dead})
        write_text(name, "a partial write");
    TrainRecipe r = toy_recipe();
    r.epochs = 1;  // no checkpoint write: only the end of the run can clean the .ckpt one
    ASSERT_TRUE(train_on(r, toy_set(8, 1), nullptr, out).finished);
    EXPECT_FALSE(exists(out + ".tmp." + dead));
    EXPECT_FALSE(exists(out + ".ckpt.tmp." + dead));
    EXPECT_TRUE(exists(out + ".tmp." + live));
    EXPECT_TRUE(exists(out + ".tmp.x" + dead));
}

TEST(Train, InitWeightsLoadByNameAndMisshapenTensorsStayFresh) {
    TempDir dir("train_run");
    auto src = make_model("fmnist_cnn", 10);
    src->state_dict().at("block1.conv.weight").fill_(0.125);
    src->save_safetensors(dir / "init.safetensors", {{"arch", "fmnist_cnn"}});
    std::string note;
    TrainOptions o;
    o.init_weights = dir / "init.safetensors";
    o.stop_after_epochs = 0;  // just the starting point
    o.progress = [&](const std::string& line, bool) { note += line; };
    const TrainRecipe r = toy_recipe();
    const TrainOutcome t = train_on(r, toy_set(4, 1), nullptr, dir / "m.safetensors", o);
    EXPECT_FALSE(t.finished);
    for (float v : t.model->state_dict().at("block1.conv.weight").to_vector<float>())
        ASSERT_EQ(v, 0.125f);
    // The 4-class head keeps the seeded fresh initialisation.
    auto fresh = make_model("fmnist_cnn", 4);
    reinitialise(*fresh, static_cast<uint64_t>(r.seed));
    EXPECT_EQ(t.model->state_dict().at("fc.weight").to_vector<float>(),
              fresh->state_dict().at("fc.weight").to_vector<float>());
    EXPECT_THAT(note, AllOf(HasSubstr("fc.weight [10, 128] -> [4, 128]"),
                            HasSubstr("fc.bias [10] -> [4]"), Not(HasSubstr("block1"))));
    // Names are strict.
    StateDict extra = src->state_dict();
    extra["extra.weight"] = Tensor::zeros({2});
    write_safetensors(dir / "extra.safetensors", extra);
    o.init_weights = dir / "extra.safetensors";
    EXPECT_THAT(error_of([&] { train_on(r, toy_set(4, 1), nullptr, dir / "m.safetensors", o); }),
                AllOf(HasSubstr("--init"), HasSubstr("extra.weight")));
}

TEST(Train, WrongChannelCountIsAnError) {
    TempDir dir("train_run");
    auto rgb = std::make_shared<TensorDataset>(Tensor::zeros({4, 3, 8, 8}),
                                               Tensor::zeros({4}, DType::I64), 2);
    EXPECT_THAT(error_of([&] { train_on(toy_recipe(), rgb, nullptr, dir / "x.safetensors"); }),
                HasSubstr("fmnist_cnn takes 1-channel"));
}

// ---- the real thing ---------------------------------------------------------------------------

TEST(TrainSlow, FmnistCnnOneEpochOnFashionMnist) {
    const std::string root = test::real_fmnist_dir();
    if (root.empty()) GTEST_SKIP() << "skipped: Fashion-MNIST not found at /usr/share/datasets";
    TempDir dir("train_slow");
    // The recipe file the demo uses, found from this file's path (tests/experiments/).
    const std::string recipe =
        (std::filesystem::path(__FILE__).parent_path().parent_path().parent_path() /
         "experiments/recipes/fmnist_cnn.yaml")
            .string();
    const TrainRecipe r = load_recipe(recipe, {{"epochs", "1"}});
    const TrainOutcome o = train_model(r, root, dir / "fm.safetensors");
    ASSERT_TRUE(o.finished);
    const Accuracy a = evaluate_accuracy(*o.model, open_dataset("fmnist", root, DataSplit::Test),
                                         eval_transforms(r), Device::cpu());
    std::printf("fmnist_cnn, 1 epoch: test top-1 %.2f%% in %.1f s\n", 100 * a.top1, o.seconds);
    EXPECT_GE(a.top1, 0.80);
}

}  // namespace
}  // namespace obl
