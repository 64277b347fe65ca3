// split(model, point): the body (stages before the point) and the head (the point and after)
// as two Sequentials over the SAME stage modules: parameters are shared, nothing is copied, and
// head(body(x)) is bit-identical to model(x). FrozenBody runs a body in eval mode under
// NoGradGuard and reports no trainable parameters (DESIGN.md §F).
#pragma once

#include <memory>
#include <string>

#include "models/classifier.h"
#include "nn/modules/sequential.h"

namespace obl {

struct Split {
    std::string point;                 // the resolved stage name where the head starts
    std::shared_ptr<Sequential> body;  // stages [0, k)
    std::shared_ptr<Sequential> head;  // stages [k, n)
    Shape embedding_shape;             // per-sample shape of body(x), e.g. [64] or [64, 8, 8]
};

// input_shape is one sample's shape (e.g. [3, 32, 32]); the embedding shape is found by running
// the body on a zero batch of one under NoGradGuard in eval mode.
Split split(const Classifier& model, const std::string& point, const Shape& input_shape);

// The body is not registered as a child: a FrozenBody has no parameters or buffers of its own,
// so optimisers and state dicts of Sequential{FrozenBody(body), head} see only the head.
class FrozenBody : public Module {
   public:
    explicit FrozenBody(std::shared_ptr<Module> body);
    Tensor forward(const Tensor& x) override;  // eval mode, NoGradGuard, output detached
    void train(bool on = true) override;       // stays in eval mode whatever is asked
    std::unique_ptr<Module> clone() const override;
    std::string repr() const override { return "FrozenBody"; }

   private:
    std::shared_ptr<Module> body_;
};

}  // namespace obl
