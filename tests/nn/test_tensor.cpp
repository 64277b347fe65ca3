// Tensor core: factories, views, copies, casts, error messages, allocator alignment.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdint>

#include "nn/autograd.h"
#include "nn/tensor.h"
#include "tests/test_util.h"

namespace obl {
namespace {

using ::testing::HasSubstr;

TEST(Tensor, FactoriesFillValues) {
    Tensor z = Tensor::zeros({2, 3});
    Tensor f = Tensor::full({4}, 2.5, DType::F64);
    Tensor i = Tensor::ones({3}, DType::I64);
    EXPECT_EQ(z.to_vector<float>(), std::vector<float>(6, 0.f));
    EXPECT_EQ(f.to_vector<double>(), std::vector<double>(4, 2.5));
    EXPECT_EQ(i.to_vector<int64_t>(), std::vector<int64_t>(3, 1));
    EXPECT_EQ(Tensor::scalar(7).shape(), Shape{});
    EXPECT_EQ(Tensor::scalar(7).item(), 7.0);
}

TEST(Tensor, CpuBlocksAre64ByteAligned) {
    for (int64_t n : {1, 3, 17, 1000}) {
        Tensor t = Tensor::empty({n}, DType::U8);
        EXPECT_EQ(reinterpret_cast<uintptr_t>(t.raw()) % 64, 0u) << "n = " << n;
    }
}

TEST(Tensor, ReshapeAndSlice0AreViews) {
    Tensor t = Tensor::from_vector<float>({0, 1, 2, 3, 4, 5}, {3, 2});
    Tensor r = t.reshape({2, 3});
    Tensor s = t.slice0(1, 3);
    EXPECT_EQ(s.shape(), (Shape{2, 2}));
    EXPECT_EQ(s.to_vector<float>(), (std::vector<float>{2, 3, 4, 5}));
    r.f32()[0] = 42.f;  // writes through the shared storage
    s.f32()[0] = 7.f;
    EXPECT_EQ(t.to_vector<float>(), (std::vector<float>{42, 1, 7, 3, 4, 5}));
    EXPECT_EQ(t.flatten(0).shape(), Shape{6});
}

TEST(Tensor, CloneIsDeepCopy) {
    Tensor t = Tensor::from_vector<float>({1, 2}, {2});
    Tensor c = t.clone();
    c.f32()[0] = 9.f;
    EXPECT_EQ(t.to_vector<float>(), (std::vector<float>{1, 2}));
}

TEST(Tensor, CastsBetweenDtypes) {
    Tensor t = Tensor::from_vector<float>({1.5f, -2.f, 3.f}, {3});
    EXPECT_EQ(t.to(DType::F64).to_vector<double>(), (std::vector<double>{1.5, -2, 3}));
    EXPECT_EQ(t.to(DType::I32).to_vector<int32_t>(), (std::vector<int32_t>{1, -2, 3}));
    EXPECT_EQ(Tensor::from_vector<uint8_t>({0, 255}, {2}).to(DType::F32).to_vector<float>(),
              (std::vector<float>{0.f, 255.f}));
}

TEST(Tensor, ErrorsNameShapesAndDtypes) {
    Tensor t = Tensor::zeros({2, 3});
    try {
        t.reshape({4, 2});
        FAIL() << "expected obl::Error";
    } catch (const Error& e) {
        EXPECT_THAT(e.what(), HasSubstr("[2, 3]"));
        EXPECT_THAT(e.what(), HasSubstr("[4, 2]"));
    }
    try {
        (void)t.i64();
        FAIL() << "expected obl::Error";
    } catch (const Error& e) {
        EXPECT_THAT(e.what(), HasSubstr("f32"));
        EXPECT_THAT(e.what(), HasSubstr("i64"));
    }
    EXPECT_THROW(t.slice0(1, 3), Error);
    EXPECT_THROW(Tensor().shape(), Error);
    EXPECT_THROW(Tensor::from_vector<float>({1, 2, 3}, {2, 2}), Error);
    EXPECT_THROW(Tensor::zeros({2}, DType::I64).set_requires_grad(true), Error);
}

TEST(Tensor, CudaUnavailableIsAClearError) {
    if (cuda_available()) GTEST_SKIP() << "a GPU is present";
    try {
        Tensor::zeros({2}).to(Device::cuda());
        FAIL() << "expected obl::Error";
    } catch (const Error& e) {
        EXPECT_THAT(e.what(), ::testing::AnyOf(HasSubstr("without CUDA"), HasSubstr("no CUDA")));
    }
}

TEST(Tensor, CudaOnlyRoundTrip) {
    OBL_SKIP_WITHOUT_GPU();
    Tensor t = Tensor::from_vector<float>({1, 2, 3, 4, 5}, {5});
    Tensor g = t.to(Device::cuda());
    EXPECT_TRUE(g.device().is_cuda());
    Tensor h = g.to(DType::F64).cpu();
    EXPECT_EQ(h.to_vector<double>(), (std::vector<double>{1, 2, 3, 4, 5}));
    Tensor z = Tensor::full({3}, 2.0, DType::F32, Device::cuda());
    EXPECT_EQ(z.to_vector<float>(), (std::vector<float>{2, 2, 2}));
}

}  // namespace
}  // namespace obl
