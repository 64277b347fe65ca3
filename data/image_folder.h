// Image files on disk: generic class-per-folder trees (torchvision.datasets.ImageFolder) and
// Tiny-ImageNet (http://cs231n.stanford.edu/tiny-imagenet-200.zip), decoded with stb_image.
//
// image_folder(root):   root/<class>/**/<image>; classes are the subdirectory names sorted, so
//                       labels match torchvision's ImageFolder. Extensions: jpg jpeg png bmp
//                       ppm pgm pnm tga gif (any case).
// tiny_imagenet(root):  root/wnids.txt (one wnid per line), root/words.txt (optional:
//                       "<wnid>\t<names>"), train: root/train/<wnid>/images/*.JPEG,
//                       test = the labelled validation set: root/val/images/*.JPEG labelled by
//                       root/val/val_annotations.txt ("<file>\t<wnid>\t<box>"). Labels are the
//                       wnids sorted (the order ImageFolder gives train/); class names are the
//                       first synonym from words.txt (the wnid when it is missing).
// Samples are u8 (3, H, W), RGB forced (gray and RGBA files are converted). Images are decoded
// lazily in batch(); a file that does not decode throws obl::Error naming it, and so does an image
// of more than 2^25 pixels (checked from its header before decoding).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "data/dataset.h"

namespace obl {

// One decoded image: u8 RGB, CHW.
struct DecodedImage {
    int64_t h = 0, w = 0;
    std::vector<uint8_t> chw;  // 3 * h * w
};
DecodedImage decode_image_rgb(const std::string& path);

struct ImageFolderOptions {
    // When both are > 0, every image is resized (bilinear, align_corners = false) to height x width
    // as it is loaded. When 0, all images must have the size of the first one.
    int64_t height = 0, width = 0;
};

class ImageFileDataset final : public Dataset {
   public:
    ImageFileDataset(std::vector<std::string> paths, std::vector<int64_t> labels,
                     std::vector<std::string> class_names, ImageFolderOptions options = {});

    int64_t size() const override { return static_cast<int64_t>(paths_.size()); }
    int num_classes() const override { return static_cast<int>(class_names_.size()); }
    int64_t label(int64_t i) const override;
    // Decodes the images: x u8 (B, 3, H, W).
    Batch batch(const std::vector<int64_t>& indices) const override;
    std::vector<std::string> class_names() const override { return class_names_; }
    Shape sample_shape() const override { return Shape{3, h_, w_}; }

    const std::string& path(int64_t i) const;
    // Decodes sample i into dst (3 * H * W bytes).
    void load(int64_t i, uint8_t* dst) const;

   private:
    std::vector<std::string> paths_;
    std::vector<int64_t> labels_;
    std::vector<std::string> class_names_;
    int64_t h_ = 0, w_ = 0;
    bool resize_ = false;
};

std::shared_ptr<ImageFileDataset> image_folder(const std::string& root,
                                               ImageFolderOptions options = {});

// Tiny-ImageNet-200; DataSplit::Test is the labelled val/ folder.
std::shared_ptr<ImageFileDataset> tiny_imagenet(const std::string& root, DataSplit split,
                                                ImageFolderOptions options = {});
// The wnids of a Tiny-ImageNet root in label order (sorted).
std::vector<std::string> tiny_imagenet_wnids(const std::string& root);

}  // namespace obl
