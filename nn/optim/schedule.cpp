// Learning-rate schedules (closed forms of torch/optim/lr_scheduler.py).
#include "nn/optim/schedule.h"

#include <algorithm>
#include <cmath>

#include "kernels/common/check.h"

namespace obl {

namespace {

void check_step(int64_t step, const char* name) {
    OBL_CHECK(step >= 0, name, ": step must be >= 0, got ", step);
}

}  // namespace

StepLR::StepLR(double base_lr, int64_t step_size, double gamma)
    : base_lr_(base_lr), step_size_(step_size), gamma_(gamma) {
    OBL_CHECK(step_size >= 1, "StepLR: step_size must be >= 1, got ", step_size);
}

double StepLR::lr_at(int64_t step) const {
    check_step(step, "StepLR");
    return base_lr_ * std::pow(gamma_, static_cast<double>(step / step_size_));
}

MultiStepLR::MultiStepLR(double base_lr, std::vector<int64_t> milestones, double gamma)
    : base_lr_(base_lr), milestones_(std::move(milestones)), gamma_(gamma) {
    std::sort(milestones_.begin(), milestones_.end());
}

double MultiStepLR::lr_at(int64_t step) const {
    check_step(step, "MultiStepLR");
    const auto passed = std::upper_bound(milestones_.begin(), milestones_.end(), step) -
                        milestones_.begin();  // milestones <= step
    return base_lr_ * std::pow(gamma_, static_cast<double>(passed));
}

CosineAnnealingLR::CosineAnnealingLR(double base_lr, int64_t t_max, double eta_min)
    : base_lr_(base_lr), t_max_(t_max), eta_min_(eta_min) {
    OBL_CHECK(t_max >= 1, "CosineAnnealingLR: t_max must be >= 1, got ", t_max);
}

double CosineAnnealingLR::lr_at(int64_t step) const {
    check_step(step, "CosineAnnealingLR");
    const double pi = 3.141592653589793238462643383279502884;
    return eta_min_ +
           (base_lr_ - eta_min_) * (1 + std::cos(pi * static_cast<double>(step) / t_max_)) / 2;
}

LinearWarmup::LinearWarmup(std::shared_ptr<const LrSchedule> after, int64_t warmup_steps,
                           double start_factor)
    : after_(std::move(after)), warmup_steps_(warmup_steps), start_factor_(start_factor) {
    OBL_CHECK(after_ != nullptr, "LinearWarmup: the schedule after warm-up is null");
    OBL_CHECK(warmup_steps >= 0, "LinearWarmup: warmup_steps must be >= 0, got ", warmup_steps);
    OBL_CHECK(start_factor > 0 && start_factor <= 1,
              "LinearWarmup: start_factor must be in (0, 1], got ", start_factor);
}

double LinearWarmup::lr_at(int64_t step) const {
    check_step(step, "LinearWarmup");
    if (step >= warmup_steps_) return after_->lr_at(step - warmup_steps_);
    const double f = start_factor_ + (1 - start_factor_) * static_cast<double>(step) /
                                         static_cast<double>(warmup_steps_);
    return after_->lr_at(0) * f;
}

}  // namespace obl
