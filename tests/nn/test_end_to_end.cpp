// End-to-end training: an MLP and a small CNN built from nn/modules, trained with our autodiff and
// SGD on separable synthetic tasks, must reach >= 95% accuracy on held-out samples, and two runs
// with one seed must give bit-identical weights on the CPU (DESIGN.md §E, §F, §K).
//
// Tasks (generated on the host from a seeded mt19937_64, so the data never depends on the ops
// under test):
//   rings:  points in the plane, class = 2 * [radius > 0.6] + [x > 0], with a margin around both
//           boundaries (radius in [0.15, 0.5] or [0.7, 1.0], |x| >= 0.05): needs the hidden layers.
//   bars:   1x12x12 images of noise (+-0.2) with one bright bar of length 4 at a random place,
//           class = its orientation (horizontal, vertical, diagonal, anti-diagonal).
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <functional>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "nn/modules.h"
#include "nn/ops.h"
#include "nn/optim/sgd.h"
#include "tests/test_util.h"

namespace obl {
namespace {

struct Samples {
    Tensor x;  // (N, ...) f32 on the CPU
    Tensor y;  // (N) i64 on the CPU
};

constexpr double kPi = 3.14159265358979323846;

// Uniform double in [0, 1) from the top 53 bits (portable, unlike std::uniform_real_distribution).
double unit(std::mt19937_64& g) { return static_cast<double>(g() >> 11) * 0x1.0p-53; }

Samples rings(int64_t n, uint64_t seed) {
    std::mt19937_64 g(seed);
    std::vector<float> x;
    std::vector<int64_t> y;
    while (static_cast<int64_t>(y.size()) < n) {
        const int64_t label = static_cast<int64_t>(y.size() % 4);  // balanced classes
        const bool outer = label >= 2, right = label % 2 == 1;
        const double r = outer ? 0.7 + 0.3 * unit(g) : 0.15 + 0.35 * unit(g);
        const double t = 2 * kPi * unit(g);
        const double px = r * std::cos(t), py = r * std::sin(t);
        if (std::fabs(px) < 0.05 || (px > 0) != right) continue;  // rejection keeps the margin
        x.push_back(static_cast<float>(px));
        x.push_back(static_cast<float>(py));
        y.push_back(label);
    }
    return {Tensor::from_vector(x, {n, 2}), Tensor::from_vector(y, {n})};
}

Samples bars(int64_t n, uint64_t seed) {
    constexpr int64_t kSide = 12, kLen = 4;
    // (row step, column step) of the four orientations.
    const int dr[4] = {0, 1, 1, 1}, dc[4] = {1, 0, 1, -1};
    std::mt19937_64 g(seed);
    std::vector<float> x(static_cast<size_t>(n * kSide * kSide));
    std::vector<int64_t> y(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) {
        float* img = x.data() + i * kSide * kSide;
        for (int64_t p = 0; p < kSide * kSide; ++p)
            img[p] = static_cast<float>(0.4 * unit(g) - 0.2);
        const int label = static_cast<int>(i % 4);
        // A start such that the whole bar lies inside the image.
        const int64_t r_max = kSide - dr[label] * (kLen - 1);
        const int64_t c_lo = dc[label] < 0 ? kLen - 1 : 0;
        const int64_t c_max = kSide - (dc[label] > 0 ? kLen - 1 : 0);
        const int64_t r0 = static_cast<int64_t>(g() % static_cast<uint64_t>(r_max));
        const int64_t c0 = c_lo + static_cast<int64_t>(g() % static_cast<uint64_t>(c_max - c_lo));
        for (int64_t k = 0; k < kLen; ++k)
            img[(r0 + dr[label] * k) * kSide + c0 + dc[label] * k] = 1;
        y[static_cast<size_t>(i)] = label;
    }
    return {Tensor::from_vector(x, {n, 1, kSide, kSide}), Tensor::from_vector(y, {n})};
}

// Rows `idx` of t (host copy), moved to `dev`.
Tensor gather_rows(const Tensor& t, const std::vector<int64_t>& idx, Device dev) {
    Shape s = t.shape();
    const size_t row = static_cast<size_t>(s.prod(1, s.size())) * dtype_size(t.dtype());
    s[0] = static_cast<int64_t>(idx.size());
    Tensor out = Tensor::empty(s, t.dtype());
    const char* src = static_cast<const char*>(t.raw());
    char* dst = static_cast<char*>(out.raw());
    for (size_t i = 0; i < idx.size(); ++i)
        std::memcpy(dst + i * row, src + static_cast<size_t>(idx[i]) * row, row);
    return out.to(dev);
}

struct TrainConfig {
    int epochs;
    int64_t batch;
    SgdOptions sgd;
    uint64_t shuffle_seed;
};

// Plain minibatch SGD on cross-entropy; returns the last epoch's mean training loss.
double train(Module& model, const Samples& data, const TrainConfig& cfg, Device dev) {
    model.to(dev);
    model.train();
    Sgd opt(model.parameters(), cfg.sgd);
    std::mt19937_64 g(cfg.shuffle_seed);
    const int64_t n = data.y.numel();
    std::vector<int64_t> order(static_cast<size_t>(n));
    double epoch_loss = 0;
    for (int epoch = 0; epoch < cfg.epochs; ++epoch) {
        for (int64_t i = 0; i < n; ++i) order[static_cast<size_t>(i)] = i;
        for (int64_t i = n - 1; i > 0; --i)  // Fisher-Yates
            std::swap(order[static_cast<size_t>(i)],
                      order[static_cast<size_t>(g() % static_cast<uint64_t>(i + 1))]);
        epoch_loss = 0;
        int batches = 0;
        for (int64_t b = 0; b + cfg.batch <= n; b += cfg.batch) {
            const std::vector<int64_t> idx(order.begin() + b, order.begin() + b + cfg.batch);
            Tensor loss =
                cross_entropy(model(gather_rows(data.x, idx, dev)), gather_rows(data.y, idx, dev));
            opt.zero_grad();
            backward(loss);
            opt.step();
            epoch_loss += loss.item();
            ++batches;
        }
        epoch_loss /= batches;
    }
    return epoch_loss;
}

double accuracy(Module& model, const Samples& data, Device dev) {
    NoGradGuard no_grad;
    model.eval();
    const std::vector<int64_t> pred = argmax(model(data.x.to(dev)), 1).to_vector<int64_t>();
    const std::vector<int64_t> truth = data.y.to_vector<int64_t>();
    int64_t correct = 0;
    for (size_t i = 0; i < pred.size(); ++i) correct += pred[i] == truth[i];
    return static_cast<double>(correct) / static_cast<double>(pred.size());
}

std::shared_ptr<Sequential> make_mlp(uint64_t seed) {
    return std::make_shared<Sequential>(std::vector<std::shared_ptr<Module>>{
        std::make_shared<Linear>(2, 32, true, seed), std::make_shared<ReLU>(),
        std::make_shared<Linear>(32, 32, true, seed + 1), std::make_shared<ReLU>(),
        std::make_shared<Linear>(32, 4, true, seed + 2)});
}

std::shared_ptr<Sequential> make_cnn(uint64_t seed) {
    return std::make_shared<Sequential>(std::vector<std::shared_ptr<Module>>{
        std::make_shared<Conv2d>(1, 8, 3, Conv2dParams{1, 1, 1, 1}, true, seed),
        std::make_shared<BatchNorm2d>(8), std::make_shared<ReLU>(), std::make_shared<MaxPool2d>(2),
        std::make_shared<Flatten>(), std::make_shared<Linear>(8 * 6 * 6, 4, true, seed + 1)});
}

const TrainConfig kMlpConfig{40, 32, SgdOptions{0.05, 0.9, 0, 0, false}, 101};
const TrainConfig kCnnConfig{8, 32, SgdOptions{0.02, 0.9, 0, 1e-4, false}, 202};

// Every parameter and buffer, byte for byte.
void expect_bit_identical(const Module& a, const Module& b) {
    const StateDict sa = a.state_dict(), sb = b.state_dict();
    ASSERT_EQ(sa.size(), sb.size());
    for (const auto& [name, ta] : sa) {
        const Tensor ha = ta.cpu(), hb = sb.at(name).cpu();
        ASSERT_EQ(ha.nbytes(), hb.nbytes()) << name;
        EXPECT_EQ(std::memcmp(ha.raw(), hb.raw(), ha.nbytes()), 0) << name << " differs";
    }
}

TEST(EndToEnd, MlpLearnsRingsAndHalfPlanes) {
    const Device dev = test::test_device();
    const Samples tr = rings(1024, 1), te = rings(1000, 2);
    auto mlp = make_mlp(10);
    const double before = accuracy(*mlp, te, dev);
    const double loss = train(*mlp, tr, kMlpConfig, dev);
    const double acc = accuracy(*mlp, te, dev);
    RecordProperty("accuracy", std::to_string(acc));
    EXPECT_LT(before, 0.6) << "the untrained model already separates the classes";
    EXPECT_GE(acc, 0.95) << "held-out accuracy " << acc << " (before training " << before
                         << ", final training loss " << loss << ")";
}

TEST(EndToEnd, CnnLearnsBarOrientation) {
    const Device dev = test::test_device();
    const Samples tr = bars(1024, 3), te = bars(1000, 4);
    auto cnn = make_cnn(20);
    const double before = accuracy(*cnn, te, dev);
    const double loss = train(*cnn, tr, kCnnConfig, dev);
    const double acc = accuracy(*cnn, te, dev);
    RecordProperty("accuracy", std::to_string(acc));
    EXPECT_LT(before, 0.6) << "the untrained model already separates the classes";
    EXPECT_GE(acc, 0.95) << "held-out accuracy " << acc << " (before training " << before
                         << ", final training loss " << loss << ")";
    // BatchNorm counted every training batch and left eval mode's statistics finite.
    const auto& bn = dynamic_cast<const BatchNorm2d&>(*(*cnn)[1]);
    EXPECT_EQ(bn.num_batches_tracked().item(), kCnnConfig.epochs * (1024 / kCnnConfig.batch));
}

TEST(EndToEnd, TrainingTwiceWithOneSeedIsBitIdenticalOnCpu) {
    const Samples r = rings(256, 5), b = bars(256, 6);
    TrainConfig mlp_cfg = kMlpConfig, cnn_cfg = kCnnConfig;
    mlp_cfg.epochs = 3;
    cnn_cfg.epochs = 2;
    auto m1 = make_mlp(7), m2 = make_mlp(7);
    train(*m1, r, mlp_cfg, Device::cpu());
    train(*m2, r, mlp_cfg, Device::cpu());
    expect_bit_identical(*m1, *m2);
    auto c1 = make_cnn(8), c2 = make_cnn(8);
    train(*c1, b, cnn_cfg, Device::cpu());
    train(*c2, b, cnn_cfg, Device::cpu());
    expect_bit_identical(*c1, *c2);
    // A different seed really gives a different model (the comparison above is not vacuous).
    auto c3 = make_cnn(9);
    train(*c3, b, cnn_cfg, Device::cpu());
    EXPECT_NE(
        std::memcmp(c1->named_parameters()[0].second.raw(), c3->named_parameters()[0].second.raw(),
                    c1->named_parameters()[0].second.nbytes()),
        0);
}

TEST(EndToEnd, CloneTrainsIndependentlyOfItsOriginal) {
    // The unlearning methods' pattern (DESIGN.md §G): clone, train the clone, the input is
    // bit-unchanged.
    const Samples b = bars(128, 7);
    auto cnn = make_cnn(30);
    auto snapshot = cnn->clone();
    auto copy = cnn->clone();
    TrainConfig cfg = kCnnConfig;
    cfg.epochs = 1;
    train(*copy, b, cfg, Device::cpu());
    expect_bit_identical(*cnn, *snapshot);
}

}  // namespace
}  // namespace obl
