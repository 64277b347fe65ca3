// The dataset table and summaries (data/catalog.h).
#include "data/catalog.h"

#include <cmath>
#include <cstring>

#include "data/cifar.h"
#include "data/file_util.h"
#include "data/loader.h"
#include "data/mnist.h"

namespace obl {

namespace {

using data_detail::directory_exists;
using data_detail::join_path;

using Opener = std::shared_ptr<const Dataset> (*)(const std::string& root, DataSplit split,
                                                  const ImageFolderOptions& image);

std::string folder_split_dir(const std::string& root, DataSplit split) {
    if (split == DataSplit::Train)
        return directory_exists(join_path(root, "train")) ? join_path(root, "train") : root;
    for (const char* name : {"test", "val"})
        if (directory_exists(join_path(root, name))) return join_path(root, name);
    return "";
}

struct Entry {
    const char* name;
    const char* default_root;
    Opener open;
};

const std::vector<Entry>& entries() {
    static const std::vector<Entry> table = {
        {"cifar10", "",
         [](const std::string& root, DataSplit split, const ImageFolderOptions&)
             -> std::shared_ptr<const Dataset> { return CifarDataset::cifar10(root, split); }},
        {"cifar100", "",
         [](const std::string& root, DataSplit split, const ImageFolderOptions&)
             -> std::shared_ptr<const Dataset> { return CifarDataset::cifar100(root, split); }},
        {"fmnist", kFashionMnistRoot,
         [](const std::string& root, DataSplit split,
            const ImageFolderOptions&) -> std::shared_ptr<const Dataset> {
             return load_mnist(root, split, MnistKind::FashionMnist);
         }},
        {"mnist", "",
         [](const std::string& root, DataSplit split,
            const ImageFolderOptions&) -> std::shared_ptr<const Dataset> {
             return load_mnist(root, split, MnistKind::Mnist);
         }},
        {"tinyimagenet", "",
         [](const std::string& root, DataSplit split, const ImageFolderOptions& image)
             -> std::shared_ptr<const Dataset> { return tiny_imagenet(root, split, image); }},
        {"folder", "",
         [](const std::string& root, DataSplit split,
            const ImageFolderOptions& image) -> std::shared_ptr<const Dataset> {
             const std::string dir = folder_split_dir(root, split);
             OBL_CHECK(!dir.empty(), "image folder ", root, " has no test split (expected ", root,
                       "/test or ", root, "/val)");
             return image_folder(dir, image);
         }},
    };
    return table;
}

const Entry& find(const std::string& name) {
    std::string valid;
    for (const Entry& e : entries()) {
        if (name == e.name) return e;
        valid += valid.empty() ? e.name : std::string(", ") + e.name;
    }
    OBL_THROW("unknown dataset '", name, "' (valid: ", valid, ")");
}

}  // namespace

const std::vector<std::string>& dataset_names() {
    static const std::vector<std::string> names = [] {
        std::vector<std::string> n;
        for (const Entry& e : entries()) n.push_back(e.name);
        return n;
    }();
    return names;
}

std::string default_dataset_root(const std::string& name) { return find(name).default_root; }

std::vector<DataSplit> dataset_splits(const std::string& name, const std::string& root) {
    find(name);
    if (name == "folder" && folder_split_dir(root, DataSplit::Test).empty()) return {DataSplit::Train};
    return {DataSplit::Train, DataSplit::Test};
}

std::shared_ptr<const Dataset> open_dataset(const std::string& name, const std::string& root,
                                            DataSplit split, ImageFolderOptions image) {
    const Entry& e = find(name);
    OBL_CHECK(!root.empty(), "dataset ", name, ": no root directory given");
    return e.open(root, split, image);
}

DatasetSummary summarize(std::shared_ptr<const Dataset> dataset, bool pixels, int num_workers) {
    OBL_CHECK(dataset != nullptr, "summarize: dataset is null");
    DatasetSummary s;
    s.samples = dataset->size();
    s.class_counts.assign(static_cast<size_t>(dataset->num_classes()), 0);
    for (int64_t i = 0; i < s.samples; ++i) {
        const int64_t y = dataset->label(i);
        OBL_CHECK(y >= 0 && y < dataset->num_classes(), "summarize: label ", y, " of sample ", i,
                  " outside [0, ", dataset->num_classes(), ")");
        ++s.class_counts[static_cast<size_t>(y)];
    }
    if (!pixels || s.samples == 0) return s;

    LoaderOptions opt;
    opt.batch_size = 256;
    opt.shuffle = false;
    opt.num_workers = num_workers;
    DataLoader loader(dataset, opt);
    loader.start_epoch(0);
    // u8: per-channel histograms (exact); other dtypes: sums in double.
    std::vector<std::vector<uint64_t>> hist;
    std::vector<double> sum, sum_sq;
    int64_t channels = -1, plane = 0, count = 0;
    bool u8 = false;
    Batch b;
    while (loader.next(b)) {
        OBL_CHECK(b.x.dim() >= 2, "summarize: samples need a channel dim, got ", b.x.describe());
        if (channels < 0) {
            channels = b.x.size(1);
            plane = b.x.numel() / (b.x.size(0) * channels);
            u8 = b.x.dtype() == DType::U8;
            hist.assign(static_cast<size_t>(channels), std::vector<uint64_t>(256, 0));
            sum.assign(static_cast<size_t>(channels), 0.0);
            sum_sq.assign(static_cast<size_t>(channels), 0.0);
        }
        const int64_t n = b.x.size(0);
        const Tensor x = u8 ? b.x : b.x.to(DType::F64);
        for (int64_t r = 0; r < n; ++r)
            for (int64_t c = 0; c < channels; ++c) {
                const int64_t off = (r * channels + c) * plane;
                if (u8) {
                    uint64_t* h = hist[static_cast<size_t>(c)].data();
                    const uint8_t* p = x.u8() + off;
                    for (int64_t i = 0; i < plane; ++i) ++h[p[i]];
                } else {
                    const double* p = x.f64() + off;
                    for (int64_t i = 0; i < plane; ++i) {
                        sum[static_cast<size_t>(c)] += p[i];
                        sum_sq[static_cast<size_t>(c)] += p[i] * p[i];
                    }
                }
            }
        count += n * plane;
    }
    for (int64_t c = 0; c < channels; ++c) {
        const size_t cc = static_cast<size_t>(c);
        double m, m2;
        if (u8) {
            uint64_t s1 = 0, s2 = 0;  // exact: at most 2^40 pixels * 255^2 < 2^64
            for (uint64_t v = 0; v < 256; ++v) {
                s1 += v * hist[cc][v];
                s2 += v * v * hist[cc][v];
            }
            m = static_cast<double>(s1) / 255.0 / static_cast<double>(count);
            m2 = static_cast<double>(s2) / (255.0 * 255.0) / static_cast<double>(count);
        } else {
            m = sum[cc] / static_cast<double>(count);
            m2 = sum_sq[cc] / static_cast<double>(count);
        }
        s.mean.push_back(m);
        s.std.push_back(std::sqrt(std::max(0.0, m2 - m * m)));
    }
    return s;
}

}  // namespace obl
