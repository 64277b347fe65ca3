// Real embeddings at a cut and their safetensors cache (data/embed.h).
#include "data/embed.h"

#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <exception>
#include <filesystem>
#include <vector>

#include "data/loader.h"
#include "data/transforms.h"
#include "kernels/common/check.h"
#include "nn/autograd.h"
#include "nn/io/hash.h"
#include "nn/io/safetensors.h"

namespace obl {

namespace {

// Bumped whenever the file layout or the meaning of a field changes: old files become misses.
constexpr const char* kFormat = "oblivio-embeddings-v1";

void fnv_bytes(uint64_t& h, const void* data, size_t n) { h = fnv1a(data, n, h); }

// FNV-1a over 8-byte words (the tail byte by byte): a checksum, not a cryptographic hash, fast
// enough for the ~1 GB of a last_block embedding file.
void fnv_words(uint64_t& h, const unsigned char* p, size_t n) {
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t w;
        std::memcpy(&w, p + i, 8);
        h = (h ^ w) * kFnv1aPrime;
    }
    fnv_bytes(h, p + i, n - i);
}

void fnv_tensor(uint64_t& h, const Tensor& t) {
    const Tensor host = t.cpu();
    const std::string head = std::string(dtype_name(host.dtype())) + host.shape().str();
    fnv_bytes(h, head.data(), head.size());
    if (host.numel() > 0)
        fnv_words(h, static_cast<const unsigned char*>(host.raw()), host.nbytes());
}

const std::string& meta(const SafetensorsFile& f, const std::string& key, const std::string& path) {
    auto it = f.metadata.find(key);
    OBL_CHECK(it != f.metadata.end(), "embeddings ", path, ": metadata has no '", key, "'");
    return it->second;
}

}  // namespace

std::shared_ptr<TensorDataset> embed(Module& body, std::shared_ptr<const Dataset> images,
                                     const EmbedOptions& options) {
    OBL_CHECK(images != nullptr, "embed: no dataset");
    OBL_CHECK(images->size() > 0, "embed: the dataset is empty");
    const Shape sample = images->sample_shape();
    OBL_CHECK(sample.size() == 3, "embed: images must be (C, H, W); samples are ", sample.str());
    OBL_CHECK(images->batch({0}).x.dtype() == DType::U8, "embed: expects raw u8 images, got ",
              images->batch({0}).x.describe());
    OBL_CHECK(options.mean.size() == static_cast<size_t>(sample[0]) &&
                  options.std.size() == static_cast<size_t>(sample[0]),
              "embed: images have ", sample[0], " channels but mean/std have ", options.mean.size(),
              "/", options.std.size(), " entries");
    OBL_CHECK(options.batch_size >= 1, "embed: batch_size must be >= 1, got ", options.batch_size);
    std::vector<TransformPtr> transforms;
    if (options.input_size > 0 &&
        (sample[1] != options.input_size || sample[2] != options.input_size))
        transforms.push_back(resize(options.input_size, options.input_size, InterpMode::Bilinear));
    transforms.push_back(normalize(options.mean, options.std));
    LoaderOptions lo;
    lo.batch_size = options.batch_size;
    lo.shuffle = false;
    lo.num_workers = options.num_workers;
    lo.transforms = std::make_shared<Compose>(transforms);
    DataLoader loader(images, lo);

    const bool was_training = body.is_training();
    body.train(false);
    NoGradGuard no_grad;
    std::vector<Tensor> parts;
    std::vector<int64_t> labels;
    labels.reserve(static_cast<size_t>(images->size()));
    loader.start_epoch(0);
    Batch b;
    try {
        while (loader.next(b)) {
            parts.push_back(body.forward(b.x.to(options.device)).detach().cpu());
            const std::vector<int64_t> y = b.y.to_vector<int64_t>();
            labels.insert(labels.end(), y.begin(), y.end());
        }
    } catch (...) {
        body.train(was_training);
        throw;
    }
    body.train(was_training);

    // Stack the batches into one (N, dims...) tensor.
    Shape full = parts.front().shape();
    const int64_t n = static_cast<int64_t>(labels.size());
    full[0] = n;
    Tensor x = Tensor::empty(full, DType::F32);
    int64_t row = 0;
    for (const Tensor& p : parts) {
        OBL_CHECK(p.dtype() == DType::F32, "embed: the body returned ", p.describe());
        x.slice0(row, row + p.size(0)).copy_(p);
        row += p.size(0);
    }
    return std::make_shared<TensorDataset>(x, Tensor::from_vector(labels, Shape{n}),
                                           images->num_classes(), images->class_names());
}

std::string EmbedKey::describe() const {
    return "model=" + model_digest + " arch=" + arch + " cut=" + cut + " dataset=" + dataset +
           " split=" + split + " val_per_class=" + std::to_string(val_per_class) +
           " input_size=" + std::to_string(input_size);
}

std::string EmbedKey::hash() const {
    uint64_t h = kFnv1aOffset;
    const std::string d = describe();
    fnv_bytes(h, d.data(), d.size());
    return hex16(h);
}

std::string state_digest(const Module& module) {
    uint64_t h = kFnv1aOffset;
    for (const auto& [name, t] : module.state_dict()) {  // a std::map: name order
        fnv_bytes(h, name.data(), name.size());
        fnv_bytes(h, "\0", 1);
        fnv_tensor(h, t);
    }
    return hex16(h);
}

std::string tensor_digest(const Tensor& t) {
    uint64_t h = kFnv1aOffset;
    fnv_tensor(h, t);
    return hex16(h);
}

void write_embeddings(const std::string& path, const TensorDataset& data, const EmbedKey& key) {
    const Tensor& x = data.x();
    const Tensor& y = data.y();
    OBL_CHECK(x.dtype() == DType::F32, "write_embeddings ", path, ": x must be f32, got ",
              x.describe());
    OBL_CHECK(y.dtype() == DType::I64 && y.dim() == 1, "write_embeddings ", path,
              ": y must be i64 (N), got ", y.describe());
    OBL_CHECK(x.dim() >= 2 && x.size(0) == y.size(0), "write_embeddings ", path, ": x ",
              x.describe(), " and y ", y.describe(), " disagree on the row count");
    std::map<std::string, std::string> m;
    m["format"] = kFormat;
    m["key"] = key.hash();
    m["key_text"] = key.describe();
    m["model_digest"] = key.model_digest;
    m["arch"] = key.arch;
    m["cut"] = key.cut;
    m["dataset"] = key.dataset;
    m["split"] = key.split;
    m["val_per_class"] = std::to_string(key.val_per_class);
    m["input_size"] = std::to_string(key.input_size);
    m["num_classes"] = std::to_string(data.num_classes());
    m["rows"] = std::to_string(x.size(0));
    m["x_digest"] = tensor_digest(x);
    m["y_digest"] = tensor_digest(y);
    write_safetensors(path, {{"x", x}, {"y", y}}, m);
}

std::shared_ptr<TensorDataset> read_embeddings(const std::string& path, const EmbedKey& key) {
    const SafetensorsFile f = read_safetensors(path);
    const std::string& format = meta(f, "format", path);
    OBL_CHECK(format == kFormat, "embeddings ", path, ": format '", format, "', expected '",
              kFormat, "'");
    const std::string& stored = meta(f, "key_text", path);
    OBL_CHECK(stored == key.describe() && meta(f, "key", path) == key.hash(), "embeddings ", path,
              ": made for '", stored, "', not '", key.describe(), "'");
    auto xi = f.tensors.find("x");
    auto yi = f.tensors.find("y");
    OBL_CHECK(xi != f.tensors.end() && yi != f.tensors.end() && f.tensors.size() == 2,
              "embeddings ", path, ": expected exactly the tensors x and y");
    const Tensor& x = xi->second;
    const Tensor& y = yi->second;
    OBL_CHECK(x.dtype() == DType::F32 && x.dim() >= 2, "embeddings ", path, ": x is ", x.describe(),
              ", expected f32 (N, dims...)");
    OBL_CHECK(y.dtype() == DType::I64 && y.dim() == 1 && y.size(0) == x.size(0), "embeddings ",
              path, ": y is ", y.describe(), " for x ", x.describe());
    OBL_CHECK(meta(f, "rows", path) == std::to_string(x.size(0)), "embeddings ", path,
              ": metadata says ", meta(f, "rows", path), " rows, the file holds ", x.size(0));
    OBL_CHECK(tensor_digest(x) == meta(f, "x_digest", path) &&
                  tensor_digest(y) == meta(f, "y_digest", path),
              "embeddings ", path, ": data checksum differs from the one written (corrupt file)");
    int num_classes = 0;
    try {
        num_classes = std::stoi(meta(f, "num_classes", path));
    } catch (const std::logic_error&) {
        OBL_THROW("embeddings ", path, ": num_classes '", meta(f, "num_classes", path),
                  "' is not a number");
    }
    OBL_CHECK(num_classes >= 1, "embeddings ", path, ": num_classes ", num_classes);
    // TensorDataset checks every label against num_classes.
    return std::make_shared<TensorDataset>(x, y, num_classes);
}

CachedEmbeddings cached_embeddings(const std::string& cache_dir, const EmbedKey& key,
                                   const std::function<std::shared_ptr<TensorDataset>()>& compute,
                                   const std::function<void(const std::string&)>& warn) {
    OBL_CHECK(!cache_dir.empty(), "embedding cache: no directory given");
    CachedEmbeddings out;
    out.path = (std::filesystem::path(cache_dir) / (key.hash() + ".safetensors")).string();
    std::error_code ec;
    if (std::filesystem::exists(out.path, ec)) {
        try {
            out.data = read_embeddings(out.path, key);
            out.hit = true;
            return out;
        } catch (const std::exception& e) {
            if (warn)
                warn("warning: ignoring invalid embedding cache file (recomputing): " +
                     std::string(e.what()));
        }
    }
    // The directories made here are removed again when compute() throws, so that a run stopping
    // on bad input leaves nothing behind (fs::remove only removes a directory that is empty).
    std::vector<std::filesystem::path> created;  // innermost first
    for (std::filesystem::path p = cache_dir; !p.empty() && !std::filesystem::exists(p, ec);
         p = p.parent_path())
        created.push_back(p);
    std::filesystem::create_directories(cache_dir, ec);
    OBL_CHECK(!ec, "embedding cache: cannot create ", cache_dir, ": ", ec.message());
    try {
        out.data = compute();
    } catch (...) {
        for (const std::filesystem::path& dir : created) std::filesystem::remove(dir, ec);
        throw;
    }
    OBL_CHECK(out.data != nullptr, "embedding cache: compute() returned nothing for ", out.path);
    write_embeddings(out.path, *out.data, key);
    return out;
}

}  // namespace obl
