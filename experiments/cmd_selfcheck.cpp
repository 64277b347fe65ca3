// `oblivio selfcheck`: a short end-to-end check of the tensor core on this machine.
//
// Trains a small MLP (2 -> 32 -> 32 -> 4) with our autodiff and SGD on four Gaussian blobs,
// prints loss and accuracy per epoch, and checks held-out accuracy >= 95%. With a GPU it trains
// the same model on CUDA too and compares the final weights with the CPU run.
#include <cmath>
#include <cstdio>
#include <cstring>
#include <memory>
#include <vector>

#include "experiments/commands.h"
#include "kernels/common/cpu_features.h"
#include "kernels/common/parallel.h"
#include "nn/cuda_context.h"
#include "nn/modules.h"
#include "nn/ops.h"
#include "nn/optim/sgd.h"

namespace obl::cli {

namespace {

constexpr int kClasses = 4;

// Four blobs centred at (+-2, +-2) with unit noise from Philox (seeded, reproducible).
void make_blobs(int64_t n, uint64_t seed, Tensor& x, Tensor& y) {
    Tensor noise = randn({n, 2}, 0.0, 0.7, seed);
    std::vector<float> xs = noise.to_vector<float>();
    std::vector<int64_t> ys(n);
    for (int64_t i = 0; i < n; ++i) {
        ys[i] = i % kClasses;
        xs[2 * i] += (ys[i] & 1) ? 2.f : -2.f;
        xs[2 * i + 1] += (ys[i] & 2) ? 2.f : -2.f;
    }
    x = Tensor::from_vector(xs, {n, 2});
    y = Tensor::from_vector(ys, {n});
}

std::shared_ptr<Sequential> make_mlp() {
    auto m = std::make_shared<Sequential>();
    m->push_back(std::make_shared<Linear>(2, 32, true, 11));
    m->push_back(std::make_shared<ReLU>());
    m->push_back(std::make_shared<Linear>(32, 32, true, 12));
    m->push_back(std::make_shared<ReLU>());
    m->push_back(std::make_shared<Linear>(32, kClasses, true, 13));
    return m;
}

double accuracy(Module& m, const Tensor& x, const Tensor& y) {
    NoGradGuard no_grad;
    const std::vector<int64_t> pred = argmax(m.forward(x), 1).to_vector<int64_t>();
    const std::vector<int64_t> truth = y.to_vector<int64_t>();
    int64_t hit = 0;
    for (size_t i = 0; i < pred.size(); ++i) hit += pred[i] == truth[i];
    return static_cast<double>(hit) / static_cast<double>(pred.size());
}

// Trains on `device`; returns held-out accuracy. Prints one line per epoch when verbose.
double train(Sequential& model, Device device, bool verbose) {
    Tensor x_train, y_train, x_test, y_test;
    make_blobs(2048, 1, x_train, y_train);
    make_blobs(1024, 2, x_test, y_test);
    model.to(device);
    x_train = x_train.to(device), y_train = y_train.to(device);
    x_test = x_test.to(device), y_test = y_test.to(device);
    SgdOptions sgd;
    sgd.lr = 0.05;
    sgd.momentum = 0.9;
    Sgd opt(model.parameters(), sgd);
    constexpr int64_t kBatch = 128;
    for (int epoch = 1; epoch <= 5; ++epoch) {
        double loss_sum = 0;
        for (int64_t b = 0; b < x_train.size(0); b += kBatch) {
            Tensor loss = cross_entropy(model.forward(x_train.slice0(b, b + kBatch)),
                                        y_train.slice0(b, b + kBatch));
            opt.zero_grad();
            backward(loss);
            opt.step();
            loss_sum += loss.item();
        }
        if (verbose)
            std::printf("  epoch %d  loss %.4f  train acc %.3f\n", epoch,
                        loss_sum / static_cast<double>(x_train.size(0) / kBatch),
                        accuracy(model, x_train, y_train));
    }
    return accuracy(model, x_test, y_test);
}

}  // namespace

int cmd_selfcheck(int argc, char** argv) {
    if (argc > 1 && (!std::strcmp(argv[1], "--help") || !std::strcmp(argv[1], "-h"))) {
        std::puts("usage: oblivio selfcheck\nTrains a small MLP on synthetic blobs with oblivio's "
                  "own autodiff and SGD (CPU, and CUDA when a GPU is present) and checks that it "
                  "learns (held-out accuracy >= 95%).");
        return 0;
    }
    std::printf("oblivio self-check: CPU ISA %s, %d threads, CUDA build %s, GPU %s\n",
                cpu_isa_name(cpu_isa()), num_threads(), OBL_WITH_CUDA ? "yes" : "no",
                cuda_available() ? cuda_context().device_name().c_str() : "none");
    std::puts("MLP 2-32-32-4 on four Gaussian blobs, SGD lr 0.05 momentum 0.9, batch 128:");
    auto cpu_model = make_mlp();
    const double acc = train(*cpu_model, Device::cpu(), true);
    std::printf("held-out accuracy (CPU): %.3f\n", acc);
    bool ok = acc >= 0.95;
    if (cuda_available()) {
        auto gpu_model = make_mlp();
        const double gpu_acc = train(*gpu_model, Device::cuda(), false);
        double max_diff = 0;
        const auto cpu_state = cpu_model->state_dict();
        for (const auto& [name, t] : gpu_model->state_dict()) {
            const auto a = t.to_vector<double>(), b = cpu_state.at(name).to_vector<double>();
            for (size_t i = 0; i < a.size(); ++i) max_diff = std::max(max_diff, std::fabs(a[i] - b[i]));
        }
        std::printf("held-out accuracy (CUDA): %.3f; max |weight CUDA - CPU| = %.2e\n", gpu_acc,
                    max_diff);
        ok = ok && gpu_acc >= 0.95;
    }
    std::puts(ok ? "self-check passed" : "self-check FAILED");
    return ok ? 0 : 1;
}

}  // namespace obl::cli
