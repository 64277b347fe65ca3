// Real embeddings: a dataset pushed through a model's body (the stages before a cut), cached as
// safetensors (DESIGN.md §A: embed(body, dataset) -> TensorDataset).
//
// Computing (embed): deterministic by construction. Raw images (u8 (C, H, W)) are scaled to
// [0, 1], resized to input_size x input_size (bilinear) when their size differs, normalised with
// the zoo entry's per-channel mean / std, and run through the body in eval mode under NoGradGuard,
// in index order. No augmentation, no shuffling: the same body and dataset give the same rows.
//
// Caching (cached_embeddings): `<cache_dir>/<key>.safetensors` holding
//     x  (N, embedding dims...) f32      y  (N) i64
// and metadata naming everything the rows depend on:
//     key = FNV-1a 64 over "model=<digest> arch=.. cut=.. dataset=.. split=.. val_per_class=..
//                            input_size=.."
// where the model digest hashes the body's whole state (every parameter and buffer: name, dtype,
// shape, bytes; state_digest below). Same inputs -> same file (a hit); a change to any of them ->
// another file. Files are written atomically (temp + rename), so a killed run leaves either no
// file or a whole one. A file that cannot be trusted — unreadable safetensors, metadata that does
// not match the key, a wrong format version, row counts or dtypes that disagree, a label out of
// range, or data whose checksum differs from the one recorded at write time — is reported through
// `warn` and recomputed (then overwritten). The data layer knows nothing about models: callers
// pass the body as a Module plus the strings that identify it (experiments/ does the splitting).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "data/dataset.h"
#include "nn/device.h"
#include "nn/modules/module.h"

namespace obl {

struct EmbedOptions {
    int64_t input_size = 0;   // images are resized to input_size x input_size (0: as they are)
    std::vector<float> mean;  // per-channel normalisation of [0, 1] pixels (one per channel)
    std::vector<float> std;
    Device device = Device::cpu();
    int64_t batch_size = 256;
    int num_workers = 1;  // data-loader threads preparing images
};

// body(images) for every image, in order, with their labels (see the top of this file). `body` is
// put in eval mode for the call and restored afterwards; it is never changed. Float datasets
// (already embeddings) are refused: only raw u8 images are embedded.
std::shared_ptr<TensorDataset> embed(Module& body, std::shared_ptr<const Dataset> images,
                                     const EmbedOptions& options);

// What identifies a set of embeddings (all fields are part of the cache key).
struct EmbedKey {
    std::string model_digest;   // state_digest(body) (or of the whole model)
    std::string arch;           // zoo name
    std::string cut;            // split point as given (alias or stage name)
    std::string dataset;        // catalog name
    std::string split;          // "train" | "test" | "val"
    int64_t val_per_class = 0;  // declared validation split (train / val only; 0 = none)
    int64_t input_size = 0;     // the images' size after resizing (EmbedOptions::input_size)

    std::string describe() const;  // the text that is hashed (also stored in the file)
    std::string hash() const;      // 16 hex digits of FNV-1a 64 over describe()
};

// FNV-1a 64 (16 hex digits) over every tensor of `module.state_dict()`: name, dtype, shape and
// bytes, in name order. Equal weights give equal digests whatever file they came from.
std::string state_digest(const Module& module);

// 64-bit checksum (16 hex digits) of a tensor's bytes (dtype and shape included).
std::string tensor_digest(const Tensor& t);

// Writes x/y with the key's metadata (atomic). Throws obl::Error on a bad dataset (x not f32, y not
// i64, row counts differing).
void write_embeddings(const std::string& path, const TensorDataset& data, const EmbedKey& key);
// Reads a file written by write_embeddings and checks it against `key` (everything listed at the
// top of this file). Throws obl::Error naming the file and the first problem found.
std::shared_ptr<TensorDataset> read_embeddings(const std::string& path, const EmbedKey& key);

struct CachedEmbeddings {
    std::shared_ptr<TensorDataset> data;
    std::string path;  // the cache file
    bool hit = false;  // read from the cache (false: computed now and written)
};

// The cache entry of `key` under `cache_dir` (created when missing): read when present and valid,
// otherwise `compute()` is called and its result
// written atomically. A present but invalid file is reported through `warn` (one line naming the
// file and the problem) before it is recomputed.
CachedEmbeddings cached_embeddings(const std::string& cache_dir, const EmbedKey& key,
                                   const std::function<std::shared_ptr<TensorDataset>()>& compute,
                                   const std::function<void(const std::string&)>& warn = {});

}  // namespace obl
