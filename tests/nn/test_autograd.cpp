// Autograd engine: accumulation into leaves, shared subgraphs, views, NoGradGuard, graph release.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "nn/autograd.h"
#include "nn/tensor.h"

namespace obl {
namespace {

// A tiny local op for engine tests: y = c * x (kept here so the engine is tested on its own).
Tensor scale(const Tensor& x, double c) {
    Tensor y = Tensor::empty(x.shape(), x.dtype());
    auto in = x.to_vector<double>();
    for (auto& v : in) v *= c;
    y.copy_(Tensor::from_vector(in, x.shape()).to(x.dtype()));
    return record("scale", y, {x}, [c](const Tensor& dy) -> std::vector<Tensor> {
        return {scale(dy, c)};
    });
}

TEST(Autograd, LeafGradientsAccumulateAcrossBackwardCalls) {
    Tensor x = Tensor::from_vector<double>({1, 2}, {2});
    x.set_requires_grad(true);
    Tensor seed = Tensor::from_vector<double>({1, 1}, {2});
    backward(scale(x, 3), seed);
    backward(scale(x, 2), seed);
    EXPECT_EQ(x.grad().to_vector<double>(), (std::vector<double>{5, 5}));
    x.zero_grad();
    EXPECT_FALSE(x.grad().defined());
}

// A second local op: z = a + b (equal shapes), to build diamonds.
Tensor plus(const Tensor& a, const Tensor& b) {
    auto va = a.to_vector<double>(), vb = b.to_vector<double>();
    for (size_t i = 0; i < va.size(); ++i) va[i] += vb[i];
    Tensor z = Tensor::from_vector(va, a.shape()).to(a.dtype());
    return record("plus", z, {a, b},
                  [](const Tensor& dz) -> std::vector<Tensor> { return {dz, dz}; });
}

TEST(Autograd, SharedSubgraphWithRetainGraph) {
    // y = 2x feeds two roots; the first backward keeps the graph: d/dx (3y) + d/dx (5y) = 16.
    Tensor x = Tensor::from_vector<double>({1, 2, 3}, {3});
    x.set_requires_grad(true);
    Tensor y = scale(x, 2);
    Tensor a = scale(y, 3), b = scale(y.reshape({3}), 5);
    backward(a, Tensor::ones({3}, DType::F64), /*retain_graph=*/true);
    backward(b, Tensor::ones({3}, DType::F64));
    EXPECT_EQ(x.grad().to_vector<double>(), (std::vector<double>{16, 16, 16}));
}

TEST(Autograd, DiamondSumsBothBranchesInOneBackward) {
    // z = 3y + 4y with y = 2x: both branches meet at y's node before it runs; dz/dx = 14.
    Tensor x = Tensor::from_vector<double>({1, 1}, {2});
    x.set_requires_grad(true);
    Tensor y = scale(x, 2);
    Tensor z = plus(scale(y, 3), scale(y.slice0(0, 2), 4));
    backward(z, Tensor::ones({2}, DType::F64));
    EXPECT_EQ(x.grad().to_vector<double>(), (std::vector<double>{14, 14}));
}

TEST(Autograd, SameLeafTwiceInOneNode) {
    Tensor x = Tensor::from_vector<double>({1, 2}, {2});
    x.set_requires_grad(true);
    backward(plus(x, x), Tensor::ones({2}, DType::F64));
    EXPECT_EQ(x.grad().to_vector<double>(), (std::vector<double>{2, 2}));
}

TEST(Autograd, Slice0BackwardScattersIntoZeros) {
    Tensor x = Tensor::from_vector<double>({1, 2, 3, 4}, {4, 1});
    x.set_requires_grad(true);
    Tensor s = scale(x.slice0(1, 3), 10);
    backward(s, Tensor::ones({2, 1}, DType::F64));
    EXPECT_EQ(x.grad().to_vector<double>(), (std::vector<double>{0, 10, 10, 0}));
}

TEST(Autograd, NoGradGuardRecordsNothing) {
    Tensor x = Tensor::from_vector<double>({1}, {1});
    x.set_requires_grad(true);
    {
        NoGradGuard guard;
        Tensor y = scale(x, 2);
        EXPECT_FALSE(y.requires_grad());
        EXPECT_EQ(y.grad_fn(), nullptr);
    }
    EXPECT_TRUE(scale(x, 2).requires_grad());
}

TEST(Autograd, DetachCutsHistory) {
    Tensor x = Tensor::from_vector<double>({1}, {1});
    x.set_requires_grad(true);
    Tensor y = scale(x, 2).detach();
    EXPECT_FALSE(y.requires_grad());
    EXPECT_THROW(backward(scale(y, 2), Tensor::ones({1}, DType::F64)), Error);
}

TEST(Autograd, GraphIsReleasedAfterBackward) {
    Tensor x = Tensor::from_vector<double>({1}, {1});
    x.set_requires_grad(true);
    Tensor y = scale(scale(x, 2), 3);
    backward(y, Tensor::ones({1}, DType::F64));
    try {
        backward(y, Tensor::ones({1}, DType::F64));
        FAIL() << "second backward through a released graph must throw";
    } catch (const Error& e) {
        EXPECT_THAT(e.what(), ::testing::HasSubstr("retain_graph"));
    }
    Tensor z = scale(x, 2);
    backward(z, Tensor::ones({1}, DType::F64), /*retain_graph=*/true);
    backward(z, Tensor::ones({1}, DType::F64));
    EXPECT_EQ(x.grad().to_vector<double>(), (std::vector<double>{6 + 2 + 2}));
}

TEST(Autograd, ScalarLossRequired) {
    Tensor x = Tensor::from_vector<double>({1, 2}, {2});
    x.set_requires_grad(true);
    EXPECT_THROW(backward(scale(x, 2)), Error);
}

TEST(Autograd, CastAndCloneAreDifferentiable) {
    Tensor x = Tensor::from_vector<float>({1, 2}, {2});
    x.set_requires_grad(true);
    Tensor y = scale(x.to(DType::F64).clone(), 4);
    backward(y, Tensor::ones({2}, DType::F64));
    EXPECT_EQ(x.grad().dtype(), DType::F32);
    EXPECT_EQ(x.grad().to_vector<float>(), (std::vector<float>{4, 4}));
}

TEST(Autograd, PrintGraphNamesNodes) {
    Tensor x = Tensor::from_vector<double>({1}, {1});
    x.set_requires_grad(true);
    std::string g = print_graph(scale(x.reshape({1, 1}), 2));
    EXPECT_THAT(g, ::testing::HasSubstr("scale <- reshape"));
    EXPECT_THAT(g, ::testing::HasSubstr("reshape <- leaf"));
}

}  // namespace
}  // namespace obl
