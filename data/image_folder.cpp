// Image-folder and Tiny-ImageNet datasets (layouts in data/image_folder.h).
#include "data/image_folder.h"

#include <stb/stb_image.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <limits>
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

// Guards for bugs of the stb_image we build with (Debian's v2.27) that upstream fixed later; each
// check walks the file the way stb does and refuses what would make stb overrun a buffer.
//
// JPEG huffman tables (fixed in stb_image 2.28): a DHT segment whose 16 code-length counts add up
// to more than 256 codes makes stbi__build_huffman write past its 257-entry size table (found by
// fuzz/fuzz_image). The walk follows stbi__decode_jpeg_header / stbi__decode_jpeg_image: markers
// are 0xFF (fill 0xFF bytes skipped) then a code; segments carry a big-endian length; junk bytes
// between segments are skipped; after a scan header the entropy-coded data runs to the first
// 0xFF that is not a stuffed 0xFF00 or a restart marker. Bytes past the end read as 0, as in stb.
void check_jpeg_tables(const std::vector<uint8_t>& bytes, const std::string& path) {
    const size_t size = bytes.size();
    auto at = [&](size_t i) -> unsigned { return i < size ? bytes[i] : 0u; };
    size_t i = 0;
    if (at(i) != 0xFF) return;
    while (i < size && at(i) == 0xFF) ++i;
    if (at(i++) != 0xD8) return;  // not a JPEG (no SOI marker)
    while (i < size) {
        if (at(i) != 0xFF) {  // junk between segments
            ++i;
            continue;
        }
        while (i < size && at(i) == 0xFF) ++i;  // fill bytes
        const unsigned marker = at(i++);
        if (marker == 0xD9) return;                                          // EOI
        if (marker == 0x00 || (marker >= 0xD0 && marker <= 0xD8)) continue;  // no segment
        const size_t length = at(i) << 8 | at(i + 1);
        if (marker == 0xC4) {  // DHT: tables of (class/id, 16 counts, values)
            size_t p = i + 2;
            for (int64_t left = static_cast<int64_t>(length) - 2; left > 0;) {
                unsigned codes = 0;
                for (size_t k = 0; k < 16; ++k) codes += at(p + 1 + k);
                OBL_CHECK(codes <= 256, "cannot decode image ", path,
                          ": corrupt JPEG (a huffman table declares ", codes,
                          " codes, at most 256)");
                p += 17 + codes;
                left -= 17 + static_cast<int64_t>(codes);
            }
        }
        i += length;
        if (marker == 0xDA) {  // SOS: skip the entropy-coded data
            while (i < size && !(at(i) == 0xFF && at(i + 1) != 0x00 && at(i + 1) != 0xFF &&
                                 !(at(i + 1) >= 0xD0 && at(i + 1) <= 0xD7)))
                ++i;
        }
    }
}

// PNM header numbers (fixed in stb_image 2.28): stbi__pnm_getinteger accumulates digits in an int
// without an overflow check (signed overflow, undefined behaviour; found by fuzz/fuzz_image). The
// walk follows stbi__pnm_info: "P5" or "P6", then width, height and maximum value, each after
// whitespace and '#' comments (to the end of the line).
void check_pnm_header(const std::vector<uint8_t>& bytes, const std::string& path) {
    if (bytes.size() < 2 || bytes[0] != 'P' || (bytes[1] != '5' && bytes[1] != '6')) return;
    size_t i = 2;
    auto space = [](unsigned c) { return c == ' ' || (c >= '\t' && c <= '\r'); };
    for (int number = 0; number < 3; ++number) {
        for (;;) {  // whitespace and comments
            while (i < bytes.size() && space(bytes[i])) ++i;
            if (i >= bytes.size() || bytes[i] != '#') break;
            while (i < bytes.size() && bytes[i] != '\n' && bytes[i] != '\r') ++i;
        }
        int64_t value = 0;
        for (; i < bytes.size() && bytes[i] >= '0' && bytes[i] <= '9'; ++i) {
            value = value * 10 + (bytes[i] - '0');
            OBL_CHECK(value <= std::numeric_limits<int>::max(), "cannot decode image ", path,
                      ": corrupt PNM header (a width, height or maximum value over ",
                      std::numeric_limits<int>::max(), ")");
        }
    }
}

// PNG chunks (stb_image 2.27), two findings of fuzz/fuzz_image, both refused here:
//   - an empty IDAT chunk before any data makes stb memcpy 0 bytes to its still-null data buffer
//     (undefined behaviour);
//   - stb grows its IDAT buffer to the length a chunk DECLARES before reading it, so a 91-byte
//     file whose second IDAT claims ~800 MB made it allocate 2 GiB. Every chunk (length, type,
//     data, CRC) must therefore fit in the file, which bounds stb's buffer by the file's size.
// The walk follows stbi__parse_png_file: the 8-byte signature, then chunks of a big-endian
// length, a 4-letter type, the data and a CRC, up to IEND.
void check_png_chunks(const std::vector<uint8_t>& bytes, const std::string& path) {
    static const uint8_t kSignature[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
    if (bytes.size() < 8 || std::memcmp(bytes.data(), kSignature, 8) != 0) return;
    uint64_t data_bytes = 0;  // in the IDAT chunks so far
    for (size_t i = 8; i + 8 <= bytes.size();) {
        const uint64_t length = uint64_t(bytes[i]) << 24 | uint64_t(bytes[i + 1]) << 16 |
                                uint64_t(bytes[i + 2]) << 8 | bytes[i + 3];
        const std::string type(bytes.begin() + i + 4, bytes.begin() + i + 8);
        if (type == "IEND") return;
        const uint64_t after_header = bytes.size() - i - 8;  // >= 0: the loop's condition
        if (length + 4 > after_header)  // the data and its 4-byte CRC must fit
            OBL_THROW("cannot decode image ", path, ": corrupt or truncated PNG (chunk '", type,
                      "' at byte ", i, " declares ", length, " bytes of data; ", after_header,
                      " bytes follow its header)");
        if (type == "IDAT") {
            OBL_CHECK(length > 0 || data_bytes > 0, "cannot decode image ", path,
                      ": corrupt PNG (an empty IDAT chunk before any image data)");
            data_bytes += length;
        }
        i += 12 + length;
    }
}

// Largest image accepted: 2^25 pixels (8192 x 4096; 96 MiB as RGB bytes). A few hundred bytes
// of header can declare a 65535 x 65535 image, which stb then decodes (missing data reads as
// zeros) into gigabytes (found by fuzz/fuzz_image), so sizes are checked before decoding.
constexpr int64_t kMaxImagePixels = int64_t(1) << 25;

// The size of an image file already in memory, from its header (stbi_info_from_memory), after
// the guards above; throws naming the file when stb cannot read it or it is too large.
struct ImageSize {
    int w = 0, h = 0;
    // Channels to ask stb for: 3 (RGB), or 1 for PGM files. A 16-bit PGM (maximum value over 255)
    // asked for 3 channels gets expanded by stb v2.27 with its 8-bit converter and then read as
    // 16-bit (heap overflow; found by fuzz/fuzz_image, fixed in v2.28): grey is expanded here.
    int load_channels = 3;
};
ImageSize probe_image(const std::vector<uint8_t>& bytes, const std::string& path) {
    OBL_CHECK(bytes.size() <= static_cast<size_t>(std::numeric_limits<int>::max()),
              "cannot decode image ", path, ": ", bytes.size(), " bytes (at most 2 GiB)");
    check_jpeg_tables(bytes, path);
    check_pnm_header(bytes, path);
    check_png_chunks(bytes, path);
    ImageSize s;
    if (bytes.size() >= 2 && bytes[0] == 'P' && bytes[1] == '5') s.load_channels = 1;
    int channels = 0;
    OBL_CHECK(
        stbi_info_from_memory(bytes.data(), static_cast<int>(bytes.size()), &s.w, &s.h, &channels),
        "cannot decode image ", path, ": ", stbi_failure_reason(),
        " (corrupt, truncated or unsupported file)");
    OBL_CHECK(s.w > 0 && s.h > 0 && int64_t(s.w) * s.h <= kMaxImagePixels, "cannot decode image ",
              path, ": size ", s.w, "x", s.h, " (at most ", kMaxImagePixels, " pixels accepted)");
    return s;
}

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
    const std::vector<uint8_t> bytes = data_detail::read_file(path);
    const ImageSize size = probe_image(bytes, path);
    int w = 0, h = 0, channels = 0;
    const int n = size.load_channels;
    std::unique_ptr<unsigned char, StbFree> pixels(
        stbi_load_from_memory(bytes.data(), static_cast<int>(bytes.size()), &w, &h, &channels, n));
    OBL_CHECK(pixels != nullptr, "cannot decode image ", path, ": ", stbi_failure_reason(),
              " (corrupt, truncated or unsupported file)");
    OBL_CHECK(w == size.w && h == size.h, "cannot decode image ", path, ": decoded ", w, "x", h,
              " but its header says ", size.w, "x", size.h);
    DecodedImage img;
    img.h = h;
    img.w = w;
    const int64_t plane = img.h * img.w;
    img.chw.resize(static_cast<size_t>(3 * plane));
    const unsigned char* hwc = pixels.get();
    for (int64_t i = 0; i < plane; ++i)
        for (int64_t c = 0; c < 3; ++c)
            img.chw[static_cast<size_t>(c * plane + i)] = hwc[i * n + (n == 3 ? c : 0)];
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
        const ImageSize size = probe_image(data_detail::read_file(paths_[0]), paths_[0]);
        h_ = size.h;
        w_ = size.w;
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
