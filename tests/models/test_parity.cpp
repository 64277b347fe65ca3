// Full-size parity with PyTorch (`make parity`, tools/parity.py): for every *.safetensors in
// $OBL_PARITY_DIR (written by tools/parity.py from torchvision's resnet18 / resnet50 / vit_b_16 /
// swin_t with seeded random weights), build the same architecture, load the weights strictly, run
// "parity.input" and compare with "parity.logits". Prints one line per file,
//   PARITY <file> arch=<arch> num_classes=<K> max_abs_diff=<d> max_abs_logit=<m> argmax_equal=<0|1>
// which tools/parity.py collects. Skipped when OBL_PARITY_DIR is unset (the default suite): the
// models are full size and the files are generated on the fly, never committed.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "models/resnet.h"
#include "models/swin.h"
#include "models/vit.h"
#include "nn/io/safetensors.h"
#include "nn/ops.h"
#include "tests/test_util.h"

namespace obl {
namespace {

// The full-size architectures, by torchvision name.
std::shared_ptr<Classifier> build(const std::string& arch, int num_classes) {
    const std::map<std::string, std::function<std::shared_ptr<Classifier>()>> table{
        {"resnet18",
         [&] {
             ResNetConfig c;
             c.num_classes = num_classes;
             return make_resnet(c);
         }},
        {"resnet50",
         [&] {
             ResNetConfig c;
             c.block = ResNetConfig::Block::Bottleneck;
             c.layers = {3, 4, 6, 3};
             c.num_classes = num_classes;
             return make_resnet(c);
         }},
        {"vit_b_16",
         [&] {
             VitConfig c;
             c.num_classes = num_classes;
             return make_vit(c);
         }},
        {"swin_t",
         [&] {
             SwinConfig c;
             c.num_classes = num_classes;
             return make_swin(c);
         }},
    };
    auto it = table.find(arch);
    OBL_CHECK(it != table.end(), "parity: unknown arch '", arch, "'");
    return it->second();
}

TEST(ParitySlow, FullSizeLogitsMatchPyTorch) {
    const char* dir = std::getenv("OBL_PARITY_DIR");
    if (dir == nullptr) GTEST_SKIP() << "OBL_PARITY_DIR is unset; run `make parity`";
    std::vector<std::string> files;
    for (const auto& e : std::filesystem::directory_iterator(dir))
        if (e.path().extension() == ".safetensors") files.push_back(e.path().string());
    std::sort(files.begin(), files.end());
    ASSERT_FALSE(files.empty()) << "no .safetensors in " << dir;
    for (const std::string& path : files) {
        SafetensorsFile f = read_safetensors(path);
        const std::string arch = f.metadata.at("arch");
        const int k = std::stoi(f.metadata.at("num_classes"));
        auto model = build(arch, k);
        StateDict weights;
        for (const auto& [name, t] : f.tensors)
            if (name.rfind("parity.", 0) != 0) weights[name] = t;
        model->load_state_dict(weights, /*strict=*/true);
        model->eval();
        model->to(test::test_device());
        Tensor logits;
        {
            NoGradGuard no_grad;
            logits = model->forward(f.tensors.at("parity.input").to(test::test_device())).cpu();
        }
        const Tensor& ref = f.tensors.at("parity.logits");
        ASSERT_EQ(logits.shape(), ref.shape()) << path;
        const auto got = logits.to_vector<double>(), want = ref.to_vector<double>();
        double diff = 0, mag = 0;
        for (size_t i = 0; i < got.size(); ++i) {
            diff = std::max(diff, std::abs(got[i] - want[i]));
            mag = std::max(mag, std::abs(want[i]));
        }
        const std::vector<int64_t> a = argmax(logits, 1).to_vector<int64_t>();
        const std::vector<int64_t> b = argmax(ref, 1).to_vector<int64_t>();
        std::printf(
            "PARITY %s arch=%s num_classes=%d max_abs_diff=%.3e max_abs_logit=%.3e "
            "argmax_equal=%d\n",
            std::filesystem::path(path).filename().c_str(), arch.c_str(), k, diff, mag,
            static_cast<int>(a == b));
        std::fflush(stdout);
        // fp32 through 12-50 layers: expect ~1e-5 relative; fail only on real disagreement.
        EXPECT_LE(diff, 1e-3 * std::max(1.0, mag)) << path;
    }
}

}  // namespace
}  // namespace obl
