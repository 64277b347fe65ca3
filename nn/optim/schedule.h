// Learning-rate schedules as pure functions of the step: lr_at(step) for step = 0, 1, 2, ...
// (PyTorch's torch/optim/lr_scheduler.py closed forms). Nothing is stateful: the training loop
// decides what a step is (an epoch or an iteration) and calls opt.set_lr(schedule.lr_at(step)).
//
//   StepLR:            base * gamma^floor(step / step_size)
//   MultiStepLR:       base * gamma^(number of milestones <= step)      (repeats count twice)
//   CosineAnnealingLR: eta_min + (base - eta_min) * (1 + cos(pi * step / t_max)) / 2
//                      (PyTorch's closed form; past t_max it rises again with period 2 t_max)
//   LinearWarmup:      step < W: after.lr_at(0) * (f + (1 - f) * step / W), f = start_factor
//                      step >= W: after.lr_at(step - W)
//                      = PyTorch's SequentialLR([LinearLR(f, total_iters=W), after], [W]).
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

namespace obl {

class LrSchedule {
   public:
    virtual ~LrSchedule() = default;
    virtual double lr_at(int64_t step) const = 0;  // step >= 0
};

class StepLR : public LrSchedule {
   public:
    StepLR(double base_lr, int64_t step_size, double gamma = 0.1);
    double lr_at(int64_t step) const override;

   private:
    double base_lr_;
    int64_t step_size_;
    double gamma_;
};

class MultiStepLR : public LrSchedule {
   public:
    MultiStepLR(double base_lr, std::vector<int64_t> milestones, double gamma = 0.1);
    double lr_at(int64_t step) const override;

   private:
    double base_lr_;
    std::vector<int64_t> milestones_;  // sorted
    double gamma_;
};

class CosineAnnealingLR : public LrSchedule {
   public:
    CosineAnnealingLR(double base_lr, int64_t t_max, double eta_min = 0);
    double lr_at(int64_t step) const override;

   private:
    double base_lr_;
    int64_t t_max_;
    double eta_min_;
};

class LinearWarmup : public LrSchedule {
   public:
    // start_factor in (0, 1]: the first step runs at start_factor * after.lr_at(0) (PyTorch
    // LinearLR's default is 1/3).
    LinearWarmup(std::shared_ptr<const LrSchedule> after, int64_t warmup_steps,
                 double start_factor = 1.0 / 3);
    double lr_at(int64_t step) const override;

   private:
    std::shared_ptr<const LrSchedule> after_;
    int64_t warmup_steps_;
    double start_factor_;
};

}  // namespace obl
