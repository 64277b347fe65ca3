// The backward engine.
#include "nn/autograd.h"

#include <sstream>
#include <unordered_map>
#include <unordered_set>
#include <utility>

#include "kernels/common/memory.h"
#include "nn/cuda_context.h"

namespace obl {

namespace {

thread_local bool t_grad_enabled = true;

// a += b, in place on a fresh (engine-owned) buffer.
void accumulate_into(Tensor& a, const Tensor& b) {
    OBL_ASSERT(a.shape() == b.shape() && a.dtype() == b.dtype() && a.device() == b.device());
    if (a.device().is_cpu()) {
        kernels::accumulate_cpu(a.raw(), b.raw(), dtype_code(a.dtype()), a.numel());
    } else {
        OBL_CUDA_ONLY(kernels::accumulate_cuda(a.raw(), b.raw(), dtype_code(a.dtype()), a.numel(),
                                               cuda_context().stream()));
    }
}

// Nodes reachable from `root`, each after all nodes that consume its output (reverse topo order).
std::vector<Node*> topo_order(Node* root) {
    std::vector<Node*> order;
    std::unordered_set<Node*> seen;
    std::vector<std::pair<Node*, size_t>> stack{{root, 0}};
    seen.insert(root);
    while (!stack.empty()) {  // iterative post-order DFS: deep graphs must not overflow the stack
        auto& [node, next] = stack.back();
        if (next < node->inputs.size()) {
            const Tensor& in = node->inputs[next++];
            Node* child = in.defined() ? in.grad_fn().get() : nullptr;
            if (child && seen.insert(child).second) stack.push_back({child, 0});
        } else {
            order.push_back(node);
            stack.pop_back();
        }
    }
    return {order.rbegin(), order.rend()};
}

}  // namespace

bool GradMode::enabled() { return t_grad_enabled; }
void GradMode::set_enabled(bool on) { t_grad_enabled = on; }

Tensor record(const char* name, Tensor out, std::vector<Tensor> inputs, BackwardFn backward) {
    if (!GradMode::enabled()) return out;
    bool any = false;
    for (const Tensor& t : inputs) any = any || (t.defined() && t.requires_grad());
    if (!any) return out;
    auto node = std::make_shared<Node>();
    node->name = name;
    node->inputs = std::move(inputs);
    node->backward = std::move(backward);
    out.impl()->grad_fn = std::move(node);
    out.impl()->requires_grad = true;
    return out;
}

void backward(const Tensor& loss, bool retain_graph) {
    OBL_CHECK(loss.defined() && loss.numel() == 1,
              "backward(loss) needs a single-element loss, got ", loss.describe(),
              "; pass an explicit gradient for other tensors");
    backward(loss, Tensor::ones(loss.shape(), loss.dtype(), loss.device()), retain_graph);
}

void backward(const Tensor& root, const Tensor& grad_root, bool retain_graph) {
    OBL_CHECK(root.defined() && root.requires_grad(),
              "backward: the tensor does not require grad (no parameter or input with "
              "requires_grad reached it, or it was computed under NoGradGuard)");
    OBL_CHECK(grad_root.shape() == root.shape() && grad_root.dtype() == root.dtype(),
              "backward: seed gradient ", grad_root.describe(), " does not match ",
              root.describe());
    NoGradGuard no_grad;
    if (root.is_leaf()) {  // d root / d root: accumulate directly
        Tensor g = root.grad();
        if (g.defined()) {
            accumulate_into(g, grad_root);
        } else {
            root.impl()->grad = grad_root.clone().impl_ptr();
        }
        return;
    }
    // Released closures and inputs are parked here and destroyed after the walk: dropping them
    // mid-walk could free a node that is still ahead in `order`.
    std::vector<BackwardFn> released_fns;
    std::vector<std::vector<Tensor>> released_inputs;
    std::unordered_map<Node*, Tensor> grads;
    grads[root.grad_fn().get()] = grad_root;
    const std::vector<Node*> order = topo_order(root.grad_fn().get());
    for (Node* node : order) {
        auto it = grads.find(node);
        if (it == grads.end()) continue;  // no gradient flowed here
        Tensor g_out = it->second;
        grads.erase(it);
        OBL_CHECK(node->backward, "backward through '", node->name,
                  "' a second time: pass retain_graph=true to the first backward");
        std::vector<Tensor> g_in = node->backward(g_out);
        OBL_CHECK(g_in.size() == node->inputs.size(), "internal error: backward of ", node->name,
                  " returned ", g_in.size(), " gradients for ", node->inputs.size(), " inputs");
        for (size_t k = 0; k < g_in.size(); ++k) {
            const Tensor& in = node->inputs[k];
            Tensor& g = g_in[k];
            if (!in.defined() || !in.requires_grad() || !g.defined()) continue;
            OBL_CHECK(g.shape() == in.shape() && g.dtype() == in.dtype(),
                      "internal error: in backward of ", node->name, ", gradient ", g.describe(),
                      " for input ", k, " which is ", in.describe());
            if (Node* child = in.grad_fn().get()) {
                auto [slot, fresh] = grads.try_emplace(child, g);
                if (!fresh) {  // never add into a buffer a backward closure may still own
                    Tensor sum = slot->second.clone();
                    accumulate_into(sum, g);
                    slot->second = sum;
                }
            } else {
                Tensor leaf_grad = in.grad();
                if (leaf_grad.defined()) {
                    accumulate_into(leaf_grad, g);
                } else {
                    in.impl()->grad = g.clone().impl_ptr();  // own copy: g may alias another grad
                }
            }
        }
        if (!retain_graph) released_fns.push_back(std::exchange(node->backward, nullptr));
    }
    if (!retain_graph) {
        for (Node* node : order) released_inputs.push_back(std::exchange(node->inputs, {}));
    }
}

std::string print_graph(const Tensor& root) {
    std::ostringstream os;
    if (!root.defined() || !root.grad_fn()) return "(leaf)\n";
    for (Node* node : topo_order(root.grad_fn().get())) {
        os << node->name << " <-";
        for (const Tensor& in : node->inputs) {
            if (!in.defined()) os << " (none)";
            else if (in.grad_fn()) os << " " << in.grad_fn()->name;
            else os << (in.requires_grad() ? " leaf" : " const");
        }
        os << "\n";
    }
    return os.str();
}

}  // namespace obl
