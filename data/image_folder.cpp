// Image-folder and Tiny-ImageNet datasets (layouts in data/image_folder.h).
#include "data/image_folder.h"

#include <stb/stb_image.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <map>
#include <memory>
#include <set>
#include <sstream>
#include <utility>

#include "data/file_util.h"
#include "data/transforms.h"

namespace obl {

using data_detail::join_path;

namespace {

bool is_image_file(const std::string& name) {
    static const std::set<std::string> kExtensions = {".jpg", ".jpeg", ".png", ".bmp", ".ppm",
                                                      ".pgm", ".pnm",  ".tga", ".gif"};
    const size_t dot = name.rfind('.');
    return dot != std::string::npos && kExtensions.count(data_detail::lower(name.substr(dot)));
}

struct StbFree {
    void operator()(unsigned char* p) const { stbi_image_free(p); }
};

// The image files under dir (recursively, following links); hidden entries skipped. Sorted
// like torchvision's `sorted(os.walk(dir))` then `sorted(fnames)`: by directory, then file name.
std::vector<std::string> image_files_under(const std::string& dir) {
    namespace fs = std::filesystem;
    std::vector<std::pair<std::string, std::string>> files;  // (directory, name)
    std::error_code ec;
    const auto opts = fs::directory_options::follow_directory_symlink;
    for (fs::recursive_directory_iterator it(dir, opts, ec), end; !ec && it != end;
         it.increment(ec)) {
        const std::string name = it->path().filename().string();
        if (!name.empty() && name[0] == '.') {
            if (it->is_directory(ec)) it.disable_recursion_pending();
            continue;
        }
        if (it->is_regular_file(ec) && is_image_file(name))
            files.emplace_back(it->path().parent_path().string(), name);
    }
    OBL_CHECK(!ec, "cannot list ", dir, ": ", ec.message());
    std::sort(files.begin(), files.end());
    std::vector<std::string> paths;
    for (const auto& [parent, name] : files) paths.push_back(parent + "/" + name);
    return paths;
}

}  // namespace

DecodedImage decode_image_rgb(const std::string& path) {
    OBL_CHECK(data_detail::file_exists(path), "cannot decode image ", path, ": no such file");
    int w = 0, h = 0, channels = 0;
    std::unique_ptr<unsigned char, StbFree> pixels(stbi_load(path.c_str(), &w, &h, &channels, 3));
    OBL_CHECK(pixels != nullptr, "cannot decode image ", path, ": ", stbi_failure_reason(),
              " (corrupt, truncated or unsupported file)");
    OBL_CHECK(w > 0 && h > 0, "cannot decode image ", path, ": size ", w, "x", h);
    DecodedImage img;
    img.h = h;
    img.w = w;
    const int64_t plane = img.h * img.w;
    img.chw.resize(static_cast<size_t>(3 * plane));
    const unsigned char* hwc = pixels.get();
    for (int64_t i = 0; i < plane; ++i)
        for (int64_t c = 0; c < 3; ++c)
            img.chw[static_cast<size_t>(c * plane + i)] = hwc[i * 3 + c];
    return img;
}

ImageFileDataset::ImageFileDataset(std::vector<std::string> paths, std::vector<int64_t> labels,
                                   std::vector<std::string> class_names, ImageFolderOptions options)
    : paths_(std::move(paths)), labels_(std::move(labels)), class_names_(std::move(class_names)) {
    OBL_CHECK(paths_.size() == labels_.size(), "ImageFileDataset: ", paths_.size(), " paths but ",
              labels_.size(), " labels");
    OBL_CHECK(!class_names_.empty(), "ImageFileDataset: no classes");
    for (size_t i = 0; i < labels_.size(); ++i)
        OBL_CHECK(labels_[i] >= 0 && labels_[i] < num_classes(), "ImageFileDataset: label ",
                  labels_[i], " of ", paths_[i], " outside [0, ", num_classes(), ")");
    OBL_CHECK((options.height > 0) == (options.width > 0) && options.height >= 0,
              "ImageFolderOptions: height ", options.height, " and width ", options.width,
              " must both be > 0 (resize on load) or both 0");
    if (options.height > 0) {
        resize_ = true;
        h_ = options.height;
        w_ = options.width;
    } else if (!paths_.empty()) {
        int w = 0, h = 0, channels = 0;
        OBL_CHECK(stbi_info(paths_[0].c_str(), &w, &h, &channels), "cannot decode image ",
                  paths_[0], ": ", stbi_failure_reason(),
                  " (corrupt, truncated or unsupported file)");
        h_ = h;
        w_ = w;
    }
}

int64_t ImageFileDataset::label(int64_t i) const {
    OBL_CHECK(i >= 0 && i < size(), "ImageFileDataset: index ", i, " outside [0, ", size(), ")");
    return labels_[static_cast<size_t>(i)];
}

const std::string& ImageFileDataset::path(int64_t i) const {
    OBL_CHECK(i >= 0 && i < size(), "ImageFileDataset: index ", i, " outside [0, ", size(), ")");
    return paths_[static_cast<size_t>(i)];
}

void ImageFileDataset::load(int64_t i, uint8_t* dst) const {
    const std::string& file = path(i);
    DecodedImage img = decode_image_rgb(file);
    if (!resize_) {
        OBL_CHECK(img.h == h_ && img.w == w_, "image ", file, " (sample ", i, ") is ", img.h, "x",
                  img.w, " but the dataset's images are ", h_, "x", w_,
                  " (set ImageFolderOptions height/width to resize on load)");
        std::memcpy(dst, img.chw.data(), img.chw.size());
        return;
    }
    Image in, out;
    in.resize(3, img.h, img.w);
    for (size_t k = 0; k < img.chw.size(); ++k) in.v[k] = img.chw[k];
    resize_image(in, out, h_, w_, InterpMode::Bilinear);
    for (size_t k = 0; k < out.v.size(); ++k)
        dst[k] = static_cast<uint8_t>(std::clamp(std::nearbyint(out.v[k]), 0.f, 255.f));
}

Batch ImageFileDataset::batch(const std::vector<int64_t>& indices) const {
    const int64_t n = static_cast<int64_t>(indices.size());
    Batch b{Tensor::empty({n, 3, h_, w_}, DType::U8), Tensor::empty({n}, DType::I64)};
    const int64_t sample = 3 * h_ * w_;
    for (int64_t r = 0; r < n; ++r) {
        const int64_t i = indices[static_cast<size_t>(r)];
        b.y.i64()[r] = label(i);
        load(i, b.x.u8() + r * sample);
    }
    return b;
}

std::shared_ptr<ImageFileDataset> image_folder(const std::string& root,
                                               ImageFolderOptions options) {
    OBL_CHECK(data_detail::directory_exists(root), "image folder root ", root,
              " is not a directory (expected root/<class>/<images>)");
    std::vector<std::string> classes;
    for (const std::string& name : data_detail::list_directory(root))
        if (name[0] != '.' && data_detail::directory_exists(join_path(root, name)))
            classes.push_back(name);
    OBL_CHECK(!classes.empty(), "image folder ", root,
              " has no class subdirectories (expected root/<class>/<images>)");
    std::vector<std::string> paths;
    std::vector<int64_t> labels;
    for (size_t k = 0; k < classes.size(); ++k) {
        const std::string dir = join_path(root, classes[k]);
        std::vector<std::string> files = image_files_under(dir);
        OBL_CHECK(!files.empty(), "image folder class directory ", dir,
                  " holds no image files (jpg, jpeg, png, bmp, ppm, pgm, pnm, tga, gif)");
        for (std::string& f : files) {
            paths.push_back(std::move(f));
            labels.push_back(static_cast<int64_t>(k));
        }
    }
    return std::make_shared<ImageFileDataset>(std::move(paths), std::move(labels),
                                              std::move(classes), options);
}

std::vector<std::string> tiny_imagenet_wnids(const std::string& root) {
    const std::string file = join_path(root, "wnids.txt");
    std::vector<std::string> wnids;
    const std::vector<std::string> lines = data_detail::read_lines(file, "wnids");
    std::set<std::string> seen;
    for (size_t i = 0; i < lines.size(); ++i) {
        const std::string w = data_detail::trim(lines[i]);
        OBL_CHECK(!w.empty(), file, " line ", i + 1, ": empty wnid");
        OBL_CHECK(seen.insert(w).second, file, " line ", i + 1, ": wnid ", w, " listed twice");
        wnids.push_back(w);
    }
    OBL_CHECK(!wnids.empty(), file, " lists no wnids");
    std::sort(wnids.begin(), wnids.end());
    return wnids;
}

std::shared_ptr<ImageFileDataset> tiny_imagenet(const std::string& root, DataSplit split,
                                                ImageFolderOptions options) {
    OBL_CHECK(data_detail::directory_exists(root), "Tiny-ImageNet root ", root,
              " is not a directory (expected wnids.txt, train/, val/)");
    const std::vector<std::string> wnids = tiny_imagenet_wnids(root);
    std::map<std::string, int64_t> label_of;
    for (size_t k = 0; k < wnids.size(); ++k) label_of[wnids[k]] = static_cast<int64_t>(k);

    // Class names: the first synonym in words.txt ("n01443537\tgoldfish, Carassius auratus").
    std::vector<std::string> names = wnids;
    const std::string words = join_path(root, "words.txt");
    if (data_detail::file_exists(words)) {
        for (const std::string& line : data_detail::read_lines(words, "class names")) {
            const size_t tab = line.find('\t');
            if (tab == std::string::npos) continue;
            auto it = label_of.find(data_detail::trim(line.substr(0, tab)));
            if (it == label_of.end()) continue;
            const std::string text = line.substr(tab + 1);
            names[static_cast<size_t>(it->second)] =
                data_detail::trim(text.substr(0, text.find(',')));
        }
    }

    std::vector<std::string> paths;
    std::vector<int64_t> labels;
    if (split == DataSplit::Train) {
        for (size_t k = 0; k < wnids.size(); ++k) {
            const std::string dir =
                join_path(join_path(join_path(root, "train"), wnids[k]), "images");
            OBL_CHECK(data_detail::directory_exists(dir), "Tiny-ImageNet: missing directory ", dir,
                      " (wnid ", wnids[k], " is listed in wnids.txt)");
            std::vector<std::string> files = image_files_under(dir);
            OBL_CHECK(!files.empty(), "Tiny-ImageNet: ", dir, " holds no images");
            for (std::string& f : files) {
                paths.push_back(std::move(f));
                labels.push_back(static_cast<int64_t>(k));
            }
        }
    } else {
        const std::string val = join_path(root, "val");
        const std::string annotations = join_path(val, "val_annotations.txt");
        const std::vector<std::string> lines = data_detail::read_lines(annotations, "annotations");
        for (size_t i = 0; i < lines.size(); ++i) {
            std::istringstream fields(lines[i]);
            std::string file, wnid;
            fields >> file >> wnid;
            OBL_CHECK(!file.empty() && !wnid.empty(), annotations, " line ", i + 1,
                      ": expected \"<file>\\t<wnid>\\t<box>\", got \"", lines[i], "\"");
            auto it = label_of.find(wnid);
            OBL_CHECK(it != label_of.end(), annotations, " line ", i + 1, ": wnid ", wnid,
                      " is not in wnids.txt");
            const std::string path = join_path(join_path(val, "images"), file);
            OBL_CHECK(data_detail::file_exists(path), annotations, " line ", i + 1, ": image ",
                      path, " does not exist");
            paths.push_back(path);
            labels.push_back(it->second);
        }
        OBL_CHECK(!paths.empty(), annotations, " lists no images");
    }
    return std::make_shared<ImageFileDataset>(std::move(paths), std::move(labels), std::move(names),
                                              options);
}

}  // namespace obl
