#include "models/split.h"

#include "nn/autograd.h"

namespace obl {

Split split(const Classifier& model, const std::string& point, const Shape& input_shape) {
    const size_t k = model.resolve(point);
    Split s;
    s.point = model.stages()[k].name;
    std::vector<std::pair<std::string, std::shared_ptr<Module>>> body, head;
    for (size_t i = 0; i < model.stages().size(); ++i) {
        const Stage& st = model.stages()[i];
        (i < k ? body : head).emplace_back(st.param_prefix, st.module);
    }
    s.body = std::make_shared<Sequential>(std::move(body));
    s.head = std::make_shared<Sequential>(std::move(head));
    s.body->train(model.is_training());
    s.head->train(model.is_training());

    // Probe the embedding shape with one zero sample, leaving training flags as they were.
    const bool was_training = s.body->is_training();
    s.body->eval();
    {
        NoGradGuard no_grad;
        Shape batch{1};
        for (int64_t d : input_shape) batch.push_back(d);
        Tensor e = s.body->forward(Tensor::zeros(batch, DType::F32, model.device()));
        for (int i = 1; i < e.dim(); ++i) s.embedding_shape.push_back(e.size(i));
    }
    s.body->train(was_training);
    return s;
}

FrozenBody::FrozenBody(std::shared_ptr<Module> body) : body_(std::move(body)) {
    OBL_CHECK(body_, "FrozenBody: null body");
    body_->eval();  // the body's modules (shared with the model) stay in eval mode from now on
    set_own_training(false);
}

Tensor FrozenBody::forward(const Tensor& x) {
    NoGradGuard no_grad;
    return body_->forward(x).detach();
}

void FrozenBody::train(bool) {
    body_->eval();
    set_own_training(false);
}

std::unique_ptr<Module> FrozenBody::clone() const {
    return std::make_unique<FrozenBody>(std::shared_ptr<Module>(body_->clone()));
}

}  // namespace obl
