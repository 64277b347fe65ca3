// DataLoader: seeded order, batching, prefetch threads (semantics in data/loader.h).
#include "data/loader.h"

#include <algorithm>
#include <numeric>

namespace obl {

namespace {
// The shuffle draws from its own stream: index 2^64 - 1 is never a sample index.
constexpr uint64_t kShuffleStream = ~uint64_t(0);
}  // namespace

std::vector<int64_t> epoch_order(int64_t n, uint64_t seed, int64_t epoch, bool shuffle) {
    OBL_CHECK(n >= 0 && epoch >= 0, "epoch_order: n ", n, " and epoch ", epoch, " must be >= 0");
    std::vector<int64_t> order(static_cast<size_t>(n));
    std::iota(order.begin(), order.end(), int64_t(0));
    if (!shuffle) return order;
    SampleRng rng(seed, static_cast<uint64_t>(epoch), kShuffleStream);
    for (int64_t i = n - 1; i > 0; --i)
        std::swap(order[static_cast<size_t>(i)],
                  order[static_cast<size_t>(rng.uniform_int(i + 1))]);
    return order;
}

DataLoader::DataLoader(std::shared_ptr<const Dataset> dataset, LoaderOptions options)
    : dataset_(std::move(dataset)), options_(std::move(options)) {
    OBL_CHECK(dataset_ != nullptr, "DataLoader: dataset is null");
    OBL_CHECK(options_.batch_size >= 1, "DataLoader: batch_size ", options_.batch_size,
              " must be >= 1");
    OBL_CHECK(options_.num_workers >= 0 && options_.num_workers <= 64, "DataLoader: num_workers ",
              options_.num_workers, " outside [0, 64]");
    OBL_CHECK(options_.prefetch >= 1, "DataLoader: prefetch ", options_.prefetch, " must be >= 1");
    if (options_.transforms && dataset_->size() > 0)
        options_.transforms->out_shape(dataset_->sample_shape());  // fail early on a misfit
}

DataLoader::~DataLoader() { stop_workers(); }

int64_t DataLoader::num_batches() const {
    const int64_t n = dataset_->size(), b = options_.batch_size;
    return options_.drop_last ? n / b : (n + b - 1) / b;
}

Batch DataLoader::build(const std::vector<int64_t>& order, int64_t epoch, int64_t k) const {
    const int64_t b = options_.batch_size;
    const int64_t begin = k * b;
    const int64_t end = std::min<int64_t>(begin + b, static_cast<int64_t>(order.size()));
    const std::vector<int64_t> indices(order.begin() + begin, order.begin() + end);
    Batch batch = dataset_->batch(indices);
    if (options_.transforms)
        batch.x = options_.transforms->apply(batch.x, indices, options_.seed,
                                             static_cast<uint64_t>(epoch));
    return batch;
}

Batch DataLoader::make_batch(int64_t epoch, int64_t k) const {
    OBL_CHECK(k >= 0 && k < num_batches(), "DataLoader: batch ", k, " outside [0, ", num_batches(),
              ")");
    return build(epoch_order(dataset_->size(), options_.seed, epoch, options_.shuffle), epoch, k);
}

void DataLoader::stop_workers() {
    {
        std::lock_guard<std::mutex> lock(mu_);
        stop_ = true;
    }
    work_cv_.notify_all();
    for (std::thread& t : workers_) t.join();
    workers_.clear();
}

void DataLoader::start_epoch(int64_t epoch) {
    OBL_CHECK(epoch >= 0, "DataLoader: epoch ", epoch, " must be >= 0");
    stop_workers();
    epoch_ = epoch;
    order_ = epoch_order(dataset_->size(), options_.seed, epoch, options_.shuffle);
    slots_.assign(static_cast<size_t>(num_batches()), Slot{});
    next_build_ = 0;
    consumed_ = 0;
    stop_ = false;
    const int threads = static_cast<int>(std::min<int64_t>(options_.num_workers, num_batches()));
    for (int t = 0; t < threads; ++t) workers_.emplace_back([this] { worker_loop(); });
}

void DataLoader::worker_loop() {
    const int64_t total = static_cast<int64_t>(slots_.size());
    std::unique_lock<std::mutex> lock(mu_);
    for (;;) {
        work_cv_.wait(lock, [&] {
            return stop_ || next_build_ >= total || next_build_ < consumed_ + options_.prefetch;
        });
        if (stop_ || next_build_ >= total) return;
        const int64_t k = next_build_++;
        lock.unlock();
        Slot slot;
        try {
            slot.batch = build(order_, epoch_, k);
        } catch (...) {
            slot.error = std::current_exception();
        }
        slot.ready = true;
        lock.lock();
        slots_[static_cast<size_t>(k)] = std::move(slot);
        done_cv_.notify_all();
    }
}

bool DataLoader::next(Batch& batch) {
    std::unique_lock<std::mutex> lock(mu_);
    if (epoch_ < 0 || consumed_ >= static_cast<int64_t>(slots_.size())) return false;
    const int64_t k = consumed_;
    Slot slot;
    if (workers_.empty()) {
        lock.unlock();
        try {
            slot.batch = build(order_, epoch_, k);
        } catch (...) {
            slot.error = std::current_exception();  // rethrown below, after the batch counts
        }
        lock.lock();
    } else {
        done_cv_.wait(lock, [&] { return slots_[static_cast<size_t>(k)].ready; });
        slot = std::move(slots_[static_cast<size_t>(k)]);
        slots_[static_cast<size_t>(k)] = Slot{};
    }
    ++consumed_;
    lock.unlock();
    work_cv_.notify_all();
    if (slot.error) std::rethrow_exception(slot.error);
    batch = std::move(slot.batch);
    return true;
}

}  // namespace obl
