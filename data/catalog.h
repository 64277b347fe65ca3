// The named datasets (the table `oblivio data` and experiment configs use) and dataset
// summaries: counts per class and per-channel pixel means / stds.
//
//   name          root layout                                     default root
//   cifar10       data_batch_{1..5}.bin test_batch.bin (cifar.h)  -
//   cifar100      train.bin test.bin (cifar.h)                    -
//   fmnist        {train,t10k}-{images,labels}-idx*.gz (mnist.h)  /usr/share/datasets/fashion-mnist
//   mnist         same file names as fmnist                       -
//   tinyimagenet  wnids.txt train/ val/ (image_folder.h)          -
//   folder        root/train/<class>/... and root/test (or val)/<class>/...; or root/<class>/...
//                 as the train split only
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "data/dataset.h"
#include "data/image_folder.h"

namespace obl {

const std::vector<std::string>& dataset_names();
// The default root of `name`, or "" when it has none. Throws on an unknown name.
std::string default_dataset_root(const std::string& name);
// The splits present under root (both, except for a folder tree without test/ or val/).
std::vector<DataSplit> dataset_splits(const std::string& name, const std::string& root);
// Opens one split. `image` applies to tinyimagenet and folder (resize on load). Throws
// obl::Error on an unknown name (listing the valid ones) or unreadable data.
std::shared_ptr<const Dataset> open_dataset(const std::string& name, const std::string& root,
                                            DataSplit split, ImageFolderOptions image = {});

struct DatasetSummary {
    int64_t samples = 0;
    std::vector<int64_t> class_counts;  // num_classes entries
    // Per channel over every pixel of every sample, pixels scaled to [0, 1] for u8 data;
    // std is the population std (divide by the count), as usually quoted for CIFAR.
    std::vector<double> mean, std;
};
// Counts labels; with `pixels`, also reads every sample (batches of 256 on `num_workers`
// threads) for the channel statistics (exact for u8 data: per-channel histograms).
DatasetSummary summarize(std::shared_ptr<const Dataset> dataset, bool pixels = true,
                         int num_workers = 2);

}  // namespace obl
