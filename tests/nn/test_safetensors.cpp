// Safetensors: round trips of every dtype, f16/bf16 conversion, atomic writes, and malformed
// files each rejected with a specific message (never a crash).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "nn/io/safetensors.h"
#include "tests/test_util.h"

namespace obl {
namespace {

using ::testing::HasSubstr;
using Bytes = std::vector<unsigned char>;

// A file image from a header string and a data section.
Bytes make_file(const std::string& header, const Bytes& data, int64_t header_len_override = -1) {
    const uint64_t n = header_len_override >= 0 ? static_cast<uint64_t>(header_len_override)
                                                : header.size();
    Bytes out;
    for (int i = 0; i < 8; ++i) out.push_back(static_cast<unsigned char>(n >> (8 * i)));
    out.insert(out.end(), header.begin(), header.end());
    out.insert(out.end(), data.begin(), data.end());
    return out;
}

std::string error_of(const Bytes& file) {
    try {
        parse_safetensors(file.data(), file.size(), "test.safetensors");
    } catch (const Error& e) {
        return e.what();
    }
    return "(no error)";
}

std::string temp_path(const std::string& name) {
    return ::testing::TempDir() + "obl_" + name;
}

TEST(Safetensors, RoundTripEveryDtype) {
    std::map<std::string, Tensor> in = {
        {"a.f32", Tensor::from_vector<float>({1.5f, -2.f, 3.25f, 0.f, 7.f, -1e-30f}, {2, 3})},
        {"b.f64", Tensor::from_vector<double>({3.141592653589793, -1e300}, {2})},
        {"c.i32", Tensor::from_vector<int32_t>({-7, 2147483647}, {1, 2})},
        {"d.i64", Tensor::from_vector<int64_t>({-9223372036854775807LL, 5}, {2})},
        {"e.u8", Tensor::from_vector<uint8_t>({0, 128, 255}, {3})},
        {"f.empty", Tensor::zeros({0, 4})},
        {"g.scalar", Tensor::scalar(42.0)},
    };
    const std::string path = temp_path("roundtrip.safetensors");
    write_safetensors(path, in, {{"arch", "cifar_resnet20"}, {"num_classes", "10"}});
    SafetensorsFile f = read_safetensors(path);
    ASSERT_EQ(f.tensors.size(), in.size());
    for (const auto& [name, t] : in) {
        ASSERT_TRUE(f.tensors.count(name)) << name;
        const Tensor& r = f.tensors.at(name);
        EXPECT_EQ(r.shape(), t.shape()) << name;
        EXPECT_EQ(r.dtype(), t.dtype()) << name;
        EXPECT_EQ(r.to_vector<double>(), t.to_vector<double>()) << name;
    }
    EXPECT_EQ(f.metadata.at("arch"), "cifar_resnet20");
    EXPECT_EQ(f.metadata.at("num_classes"), "10");
    std::remove(path.c_str());
}

TEST(Safetensors, HalfAndBfloat16LoadAsF32) {
    // f16: 1.0 = 0x3C00, -2.0 = 0xC000, 65504 = 0x7BFF, smallest subnormal 2^-24 = 0x0001.
    // bf16: 1.0 = 0x3F80, -0.5 = 0xBF00.
    Bytes data = {0x00, 0x3C, 0x00, 0xC0, 0xFF, 0x7B, 0x01, 0x00, 0x80, 0x3F, 0x00, 0xBF};
    const std::string header =
        R"({"h":{"dtype":"F16","shape":[4],"data_offsets":[0,8]},)"
        R"("b":{"dtype":"BF16","shape":[2],"data_offsets":[8,12]}})";
    Bytes file = make_file(header, data);
    SafetensorsFile f = parse_safetensors(file.data(), file.size(), "t");
    EXPECT_EQ(f.tensors.at("h").dtype(), DType::F32);
    EXPECT_EQ(f.tensors.at("h").to_vector<float>(),
              (std::vector<float>{1.f, -2.f, 65504.f, 5.9604644775390625e-08f}));
    EXPECT_EQ(f.tensors.at("b").to_vector<float>(), (std::vector<float>{1.f, -0.5f}));
}

TEST(Safetensors, WriteIsAtomicAndNamesMissingDirectory) {
    const std::string bad = ::testing::TempDir() + "no_such_dir_obl/x.safetensors";
    try {
        write_safetensors(bad, {{"w", Tensor::zeros({2})}});
        FAIL() << "expected obl::Error";
    } catch (const Error& e) {
        EXPECT_THAT(e.what(), HasSubstr("no_such_dir_obl/x.safetensors"));
    }
    const std::string path = temp_path("atomic.safetensors");
    write_safetensors(path, {{"w", Tensor::ones({3})}});
    write_safetensors(path, {{"w", Tensor::zeros({3})}});  // replaces in place
    EXPECT_EQ(read_safetensors(path).tensors.at("w").to_vector<float>(),
              (std::vector<float>{0, 0, 0}));
    std::ifstream tmp(path + ".tmp." + std::to_string(::getpid()));
    EXPECT_FALSE(tmp.good()) << "temporary file left behind";
    std::remove(path.c_str());
}

struct Malformed {
    const char* name;
    Bytes file;
    const char* message;  // substring the error must contain
};

Bytes four_floats() { return Bytes(16, 0); }

std::vector<Malformed> malformed_files() {
    const std::string ok_entry = R"({"w":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}})";
    return {
        {"empty_file", Bytes{}, "empty file"},
        {"short_file", Bytes{1, 2, 3}, "shorter than the 8-byte header length"},
        {"header_over_limit", make_file(ok_entry, four_floats(), (100ll << 20) + 1),
         "exceeds the 100 MB limit"},
        {"header_past_eof", make_file(ok_entry, {}, 1000), "runs past the end of the file"},
        {"invalid_json", make_file(R"({"w":{"dtype":"F32",)", {}), "invalid JSON"},
        {"header_not_object", make_file("[1,2]", {}), "not a JSON object"},
        {"unknown_dtype",
         make_file(R"({"w":{"dtype":"F8_E4M3","shape":[4],"data_offsets":[0,4]}})", Bytes(4, 0)),
         "unsupported dtype \"F8_E4M3\""},
        {"shape_size_mismatch",
         make_file(R"({"w":{"dtype":"F32","shape":[5],"data_offsets":[0,16]}})", four_floats()),
         "needs 20 bytes but data_offsets span 16"},
        {"offsets_out_of_range",
         make_file(R"({"w":{"dtype":"F32","shape":[8],"data_offsets":[0,32]}})", four_floats()),
         "run past the data section"},
        {"overlapping",
         make_file(R"({"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]},)"
                   R"("b":{"dtype":"F32","shape":[2],"data_offsets":[8,16]}})",
                   four_floats()),
         "overlaps"},
        {"gap",
         make_file(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[8,16]}})", four_floats()),
         "gap of 8 bytes"},
        {"trailing_bytes",
         make_file(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})", four_floats()),
         "belong to no tensor"},
        {"negative_dim",
         make_file(R"({"w":{"dtype":"F32","shape":[-4],"data_offsets":[0,16]}})", four_floats()),
         "negative dimension -4"},
        {"huge_dims_overflow",
         make_file(R"({"w":{"dtype":"F32","shape":[4294967296,4294967296,16],)"
                   R"("data_offsets":[0,16]}})",
                   four_floats()),
         "element count overflows"},
        {"dim_beyond_int64",
         make_file(R"({"w":{"dtype":"F32","shape":[99999999999999999999],"data_offsets":[0,16]}})",
                   four_floats()),
         "out of range"},
        {"duplicate_names",
         make_file(R"({"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
                   R"("w":{"dtype":"F32","shape":[2],"data_offsets":[8,16]}})",
                   four_floats()),
         "duplicate key \"w\""},
        {"truncated_data", make_file(ok_entry, Bytes(10, 0)), "file truncated?"},
        {"non_utf8_name",
         make_file("{\"w\xff\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}}",
                   four_floats()),
         "invalid UTF-8"},
        {"float_offset",
         make_file(R"({"w":{"dtype":"F32","shape":[4],"data_offsets":[0,16.0]}})", four_floats()),
         "expected an integer"},
        {"metadata_not_string", make_file(R"({"__metadata__":{"epochs":3}})", {}),
         "is not a string"},
        {"deep_nesting", make_file(std::string(64, '[') + std::string(64, ']'), {}),
         "nesting deeper"},
        {"missing_field", make_file(R"({"w":{"dtype":"F32","shape":[4]}})", four_floats()),
         "needs dtype, shape and data_offsets"},
    };
}

void PrintTo(const Malformed& m, std::ostream* os) { *os << m.name; }

class MalformedSafetensors : public ::testing::TestWithParam<Malformed> {};

TEST_P(MalformedSafetensors, RejectedWithSpecificMessage) {
    const Malformed& m = GetParam();
    EXPECT_THAT(error_of(m.file), HasSubstr(m.message));
    EXPECT_THAT(error_of(m.file), HasSubstr("test.safetensors"));
}

INSTANTIATE_TEST_SUITE_P(Safetensors, MalformedSafetensors, ::testing::ValuesIn(malformed_files()),
                         [](const ::testing::TestParamInfo<Malformed>& i) { return i.param.name; });

TEST(Safetensors, MissingFileNamesPath) {
    try {
        read_safetensors("/nonexistent/obl/model.safetensors");
        FAIL() << "expected obl::Error";
    } catch (const Error& e) {
        EXPECT_THAT(e.what(), HasSubstr("/nonexistent/obl/model.safetensors"));
    }
}

}  // namespace
}  // namespace obl

// Module round trip through a file: save, perturb, load, compare; strict load names the file.
#include "nn/modules.h"

namespace obl {
namespace {

TEST(Safetensors, ModuleSaveLoadRoundTrip) {
    Sequential a;
    a.push_back(std::make_shared<Linear>(3, 4, true, /*seed=*/1));
    a.push_back(std::make_shared<BatchNorm1d>(4));
    const std::string path = temp_path("module.safetensors");
    a.save_safetensors(path, {{"arch", "test_mlp"}});
    Sequential b;
    b.push_back(std::make_shared<Linear>(3, 4, true, /*seed=*/2));
    b.push_back(std::make_shared<BatchNorm1d>(4));
    b.load_safetensors(path);
    for (const auto& [name, t] : a.state_dict())
        EXPECT_EQ(t.to_vector<double>(), b.state_dict().at(name).to_vector<double>()) << name;
    Sequential c;
    c.push_back(std::make_shared<Linear>(3, 5, true, 1));
    try {
        c.load_safetensors(path);
        FAIL() << "expected obl::Error";
    } catch (const Error& e) {
        EXPECT_THAT(e.what(), HasSubstr(path));
        EXPECT_THAT(e.what(), HasSubstr("0.weight"));
    }
    std::remove(path.c_str());
}

}  // namespace
}  // namespace obl
