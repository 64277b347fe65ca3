// DataLoader: batches of a Dataset in a seeded order, built ahead by background threads.
//
// Epoch e visits the samples in epoch_order(n, seed, e, shuffle): the identity, or a Fisher-Yates
// permutation drawn from SampleRng(seed, e, kShuffleStream). Batch k holds order[k*B, (k+1)*B)
// (the last one shorter unless drop_last). With transforms, row b is
// transforms.apply(sample, SampleRng(seed, e, dataset index)) (data/transforms.h).
// Every batch is therefore a pure function of (dataset, options, epoch, k): the same seed gives
// bit-identical batches whatever num_workers is, and whichever worker builds which batch.
//
// Threads: num_workers > 0 threads take batch numbers in order and build at most `prefetch`
// batches ahead of the consumer; next() hands them out in order. An exception thrown while
// building batch k (a corrupt image, say) is rethrown by the next() that reaches batch k.
// num_workers = 0 builds each batch inside next().
#pragma once

#include <condition_variable>
#include <cstdint>
#include <exception>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "data/dataset.h"
#include "data/transforms.h"

namespace obl {

struct LoaderOptions {
    int64_t batch_size = 128;
    bool shuffle = true;
    bool drop_last = false;
    uint64_t seed = 0;
    int num_workers = 2;  // background threads; 0 = build batches in next()
    int prefetch = 4;     // batches built ahead of the consumer (>= 1)
    // Null: batches are passed on as the dataset returns them (e.g. embeddings). Set (even an
    // empty Compose): x becomes f32, u8 pixels scaled to [0, 1], then the transforms.
    std::shared_ptr<const Compose> transforms;
};

// The sample order of one epoch (see above).
std::vector<int64_t> epoch_order(int64_t n, uint64_t seed, int64_t epoch, bool shuffle);

class DataLoader {
   public:
    DataLoader(std::shared_ptr<const Dataset> dataset, LoaderOptions options);
    ~DataLoader();
    DataLoader(const DataLoader&) = delete;
    DataLoader& operator=(const DataLoader&) = delete;

    int64_t num_batches() const;
    const Dataset& dataset() const { return *dataset_; }
    const LoaderOptions& options() const { return options_; }

    // Starts epoch `epoch` (abandoning the rest of the current one) and its prefetch threads.
    void start_epoch(int64_t epoch);
    // The next batch of the current epoch, in order; false at its end (or before start_epoch).
    bool next(Batch& batch);
    // Batch k of epoch `epoch`, built on the calling thread (what the workers run).
    Batch make_batch(int64_t epoch, int64_t k) const;

   private:
    struct Slot {
        bool ready = false;
        Batch batch;
        std::exception_ptr error;
    };
    void stop_workers();
    void worker_loop();
    Batch build(const std::vector<int64_t>& order, int64_t epoch, int64_t k) const;

    std::shared_ptr<const Dataset> dataset_;
    LoaderOptions options_;

    int64_t epoch_ = -1;
    std::vector<int64_t> order_;
    std::vector<Slot> slots_;  // one per batch of the epoch; emptied when handed out
    int64_t next_build_ = 0;   // next batch number a worker will take
    int64_t consumed_ = 0;     // batches handed out by next()
    bool stop_ = false;
    std::mutex mu_;
    std::condition_variable work_cv_, done_cv_;
    std::vector<std::thread> workers_;
};

}  // namespace obl
