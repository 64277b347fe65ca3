// Method defaults by the STRUCTURE of the head being trained (DESIGN.md §G, §O).
//
// unlearn/configs.h's defaults were calibrated on LINEAR heads (the "pre_logits" cut: one Linear,
// 650 parameters on the shared CIFAR-10 ResNets). A head that holds more than one weight layer
// (the "last_block" cut: the last residual block + pooling + fc, 74,634 parameters there) trains
// very differently: every step on synthetic draws moves conv kernels that all real inputs go
// through, so the linear-head learning rates wreck the retain classes within one epoch
// (neg_grad_plus, lr 0.05, ResNet-20 last_block, class 0: validation A_r 99.8% -> 82.5% after
// epoch 0). head_default_overrides() returns the settings such a head gets; `oblivio forget`
// (run_forget) applies them BEFORE the user's --set values, so an explicit --set always wins, and
// the report's "config" is the resolved result.
//
// The rule depends only on the head's structure (HeadStructure below: its trainable weight
// tensors and parameter count), never on a model's name, on where its weights came from, or on
// any data:
//   - linear head (at most one trainable weight tensor of rank >= 2, i.e. one Linear, whatever
//     parameter-free pooling / flattening precedes it): no overrides (configs.h as it is);
//   - deep head (two or more weight tensors: conv blocks + fc, transformer blocks + head): the
//     method's learning rate times 0.01 (retrain_head excepted: it trains a fresh head, and on
//     REAL embeddings a fresh ResNet-20 last block trains fine at its lr 0.05; see below).
//
// What the rule does and does NOT achieve (validation split: the last 500 CIFAR-10 training
// images per class, `oblivio forget --cut last_block --eval-split val --trace`, full epoch
// budget traced; 5000 draws/class, seed 0):
//   - neg_grad_plus at lr 0.0005 (x0.01): the retain classes survive the epochs the data-free
//     rule selects (validation A_r >= 99.5% there), real forgetting follows the synthetic one with
//     a lag: the validation A_f of the forget class fell to <= 1% only 1-2 epochs (ResNet-20) or
//     3-5 epochs (ResNet-32) after held-out synthetic agreement reached 0, and by then the
//     negative cross-entropy grows without bound (the head diverged to NaN by epoch 7-8 on every
//     ResNet-20 class). The window in which real A_f <= 1% and real A_r within 1 pt is 0-1 epochs
//     wide on ResNet-20, and the synthetic relative margin at its start ranged from -10 to -54
//     across the 20 model x class runs: no single data-free threshold separates it.
//   - random_labels on ResNet-20 "cat": real forgetting plateaus while the synthetic forget
//     agreement is 0 (validation A_f 27-64% at lr 0.0003-0.001; 5-8% by the last epoch at lr
//     0.003-0.01, which costs 4-38 pt of validation A_r).
//   - The other distributions do not close the gap: "matched" (BatchNorm moments) forgets more
//     slowly (NG+, class 3: stopped at epoch 0 by the retain floor with A_f 97.4%; 3.0% only at
//     epoch 4, with A_r -1.9 pt),
//     "rectified" diverges sooner (NG+) and costs retain accuracy (RL: A_f 14.8%, A_r 94.4%).
//   - retrain_head cannot rebuild a deep head from draws alone, at any lr tried (class 3): at
//     0.05 the fresh block diverges to NaN; at 0.005 held-out synthetic retain agreement is 0.83
//     after the 5-epoch budget and validation A_r 20.9%; at 0.0005, 0.48 and 20.5%. Scaling its lr
//     would not rescue the synthetic case and would slow the real-embedding one, so it keeps 0.05
//     and forget refuses the synthetic result (retain agreement below tau_r).
// So at deep heads the data-free rule's "forgotten" is a statement about the synthetic draws
// only: run_forget says so in its report ("warnings") and `oblivio forget` prints it; measure
// real forgetting on a declared validation split (--eval-split val) before trusting such a model.
#pragma once

#include <cstdint>
#include <string>

#include "nn/modules/module.h"
#include "unlearn/method.h"

namespace obl {

struct HeadStructure {
    int64_t parameters = 0;  // trainable parameter elements
    int weight_tensors = 0;  // trainable parameters of rank >= 2 (Linear / conv / projection)
    int conv_kernels = 0;    // of those, rank 4 (Conv2d kernels)
    int norm_layers = 0;     // BatchNorm / LayerNorm modules with trainable affine parameters

    bool deep() const { return weight_tensors >= 2; }
    // "linear head (1 weight tensor, 650 parameters)", "deep head (3 weight tensors: 2 conv
    // kernels; 2 norm layers; 74634 parameters)".
    std::string describe() const;
};

// The structure of `head` (its trainable parameters, i.e. requires_grad).
HeadStructure head_structure(const Module& head);

// The settings `method` gets on a head of this structure, to be applied BEFORE the user's
// overrides (empty: the method's configs.h defaults stand). Every key is a field of the method's
// config (tests/unlearn/test_head_defaults.cpp checks the whole method table). An unknown method
// name gets no overrides (find_method reports it).
Overrides head_default_overrides(const std::string& method, const HeadStructure& head);
Overrides head_default_overrides(const std::string& method, const Module& head);

// head_default_overrides(method, head) followed by `user`: what the method is run with.
Overrides with_head_defaults(const std::string& method, const Module& head, const Overrides& user);

}  // namespace obl
