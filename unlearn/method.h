// The unlearning-method interface (DESIGN.md §G).
//
// A method is one function plus one config struct:
//     std::unique_ptr<Module> neg_grad(const Module& original, const UnlearnData& data,
//                                      const NegGradConfig& cfg, const RunContext& ctx);
// It clones `original` (which stays bit-unchanged), trains only trainable parameters, takes its
// randomness from ctx.seed, never prints (it reports through ctx.on_epoch_end), never sees test
// data and selects no checkpoint on real data. The same function runs on synthetic embeddings,
// real embeddings, and images through a FrozenBody.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "data/dataset.h"
#include "nn/modules/module.h"

namespace obl {

struct UnlearnData {
    std::shared_ptr<const Dataset> forget, retain;  // samples (x, y); x is what `model` consumes
    int num_classes = 0;
    std::vector<int> forget_classes;
};

// Throws obl::Error when the request cannot be served: no datasets, classes out of range or
// duplicated, or every class forgotten (nothing would be left to keep).
void check_unlearn_data(const UnlearnData& data);

struct EpochStats {
    int epoch = 0;
    double loss = 0;
    double forget_agreement = -1;  // data-free signals (DESIGN.md §O), -1 when not computed
    double retain_agreement = -1;
    double seconds = 0;
};

struct RunContext {
    uint64_t seed = 0;
    std::function<void(int epoch, const EpochStats&)> on_epoch_end;
};

}  // namespace obl
