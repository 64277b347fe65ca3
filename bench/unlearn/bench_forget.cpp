// One whole source-free forget request (unlearn/forget.h: run_forget) on the shared CIFAR-10
// ResNet-20 at pre_logits, and the machine's limit for synthetic draws/s (bench/README.md,
// "Forget request vs PyTorch").
//
//   BM_forget_request/<method>/class:3/per_class:5000
//       run_forget on the shared ResNet-20 (classes {3}, 5,000 N(0, I) draws per class, seed 0,
//       the method's defaults, the data-free monitor). The model is loaded once, outside the
//       timing; each iteration is the whole request (clone, split, sampling, held-out set, method
//       + monitor, reassembly). Counters: epochs run, the report's sampling / training / selection
//       seconds (mean per request). Skipped with a message when the shared checkpoint or the
//       converter (Debian python3-torch) is missing. OBL_BENCH_MODEL=FILE.safetensors uses an
//       already converted file instead.
//   BM_synthetic_limit/{fused_block,sampler}/threads:T/D:64_K:10
//       draws/s of our sampler against the machine limit for this work on T threads:
//         fused_block  synth_sample_block on blocks of 16,384 candidates (the sampler's block at
//                      D = 64): Philox -> Box-Muller -> W z + b -> argmax, z kept;
//         sampler      sample_embeddings with 5,000 per class (quota filter and collection too).
//       The head is ResNet-20's own linear layer when the shared model is available, otherwise a
//       seeded Linear(64, 10) (the rate does not depend on the weights; acceptance does).
//       limit_draws/s = T / (D / normals_per_s_1t + 2 D K / fma_flops_per_s_1t), from two peaks
//       measured here on ONE thread, best of 5 by that thread's CPU time (so neither a busy
//       second core nor waiting for a core distorts them), and scaled by T:
//         normals_per_s_1t    the fast Philox normal fill (kernels/random.h, fill_normal_fast_cpu)
//                             on a 16 MB buffer: the D standard normals a draw needs;
//         fma_flops_per_s_1t  a pure register FMA loop (12 independent accumulators, AVX-512 or
//                             AVX2): the peak of the 2 D K flops of W z.
//       The argmax (K compares) and the store of z (4 D bytes) are left out (a few ns against
//       ~137 ns per draw at D = 64, K = 10): the bound is slightly optimistic. pct_of_limit =
//       draws/s / limit by the wall clock; on one thread also draws/cpu_s and pct_of_limit_cpu
//       by the thread's CPU time (the figures to trust when the machine is shared).
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "bench/fma_peak.h"
#include "kernels/common/cpu_features.h"
#include "kernels/common/parallel.h"
#include "kernels/random.h"
#include "models/split.h"
#include "models/zoo.h"
#include "nn/modules/linear.h"
#include "nn/modules/sequential.h"
#include "unlearn/forget.h"
#include "unlearn/synthetic.h"

namespace {

namespace fs = std::filesystem;
using obl::Tensor;

constexpr int64_t kD = 64, kK = 10;  // ResNet-20 at pre_logits
constexpr int64_t kPerClass = 5000;

// ---- the shared ResNet-20, converted once
// --------------------------------------------------------

fs::path repo_root() { return fs::path(__FILE__).parent_path().parent_path().parent_path(); }

// A temp directory removed at exit.
struct TempDir {
    fs::path path;
    TempDir() : path(fs::temp_directory_path() / ("obl_bench_forget_" + std::to_string(getpid()))) {
        fs::create_directories(path);
    }
    ~TempDir() {
        std::error_code ec;
        fs::remove_all(path, ec);
    }
};

// Path of a converted ResNet-20 safetensors file, or "" with *why set.
std::string shared_resnet20(std::string* why) {
    static std::string path, reason;
    static bool done = false;
    if (done) {
        *why = reason;
        return path;
    }
    done = true;
    if (const char* env = std::getenv("OBL_BENCH_MODEL")) {
        path = env;
        if (!fs::exists(path)) {
            reason = "skipped: OBL_BENCH_MODEL=" + path + " does not exist";
            path.clear();
        }
        *why = reason;
        return path;
    }
    const char* env_shared = std::getenv("OBL_SHARED_DIR");
    const fs::path shared =
        env_shared ? fs::path(env_shared) : repo_root().parent_path() / "shared";
    const fs::path th = shared / "models" / "cifar10-resnet-akamaster" / "resnet20-12fca82f.th";
    if (!fs::exists(th)) {
        reason = "skipped: " + th.string() + " not found (set OBL_SHARED_DIR or OBL_BENCH_MODEL)";
        *why = reason;
        return path;
    }
    static TempDir tmp;
    const fs::path out = tmp.path / "resnet20.safetensors";
    const std::string cmd = "/usr/bin/python3 '" +
                            (repo_root() / "tools" / "convert_checkpoint.py").string() + "' '" +
                            th.string() + "' '" + out.string() + "' --arch cifar_resnet20 > '" +
                            (tmp.path / "convert.log").string() + "' 2>&1";
    if (std::system(cmd.c_str()) != 0 || !fs::exists(out)) {
        reason = "skipped: tools/convert_checkpoint.py failed (Debian python3-torch missing?)";
    } else {
        path = out.string();
    }
    *why = reason;
    return path;
}

// ---- BM_forget_request
// -----------------------------------------------------------------------------

void bm_forget_request(benchmark::State& state, const std::string& method) {
    std::string why;
    const std::string path = shared_resnet20(&why);
    if (path.empty()) {
        state.SkipWithError(why.c_str());
        return;
    }
    const obl::LoadedModel loaded = obl::load_zoo_model(path, "cifar_resnet20");
    obl::ForgetRequest req;
    req.classes = {3};
    req.method = method;
    req.sampler.per_class = kPerClass;
    req.seed = 0;
    double sampling = 0, training = 0, selection = 0, draws = 0;
    int64_t epochs = 0;
    for (auto _ : state) {
        const obl::ForgetResult r =
            obl::run_forget(*loaded.model, loaded.entry->input_shape(), req);
        sampling += r.report.sampling_seconds;
        training += r.report.training_seconds;
        selection += r.report.selection_seconds;
        draws +=
            static_cast<double>(r.report.sample_stats.draws + r.report.sample_stats.targeted_draws);
        epochs = static_cast<int64_t>(r.report.epochs.size());
        benchmark::DoNotOptimize(r.model.get());
    }
    const double n = static_cast<double>(state.iterations());
    state.counters["epochs"] = static_cast<double>(epochs);
    state.counters["sampling_ms"] = 1e3 * sampling / n;
    state.counters["training_ms"] = 1e3 * training / n;
    state.counters["selection_ms"] = 1e3 * selection / n;
    // Training-set candidates per second of the sampling step (the held-out set's draws are
    // inside that step too but not counted: a lower bound on the rate).
    if (sampling > 0) state.counters["train_draws/s"] = draws / sampling;
    state.SetLabel("threads " + std::to_string(obl::num_threads()));
}

// ---- machine peaks, one thread -----------------------------------------------------------------

// Seconds of CPU time of the calling thread: unlike the wall clock it does not count the time
// the thread waits for a core, so one-thread rates stay meaningful on a shared, busy machine.
double thread_cpu_seconds() {
    timespec ts{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}

// Wall and calling-thread CPU time of a region.
struct Stopwatch {
    std::chrono::steady_clock::time_point wall0 = std::chrono::steady_clock::now();
    double cpu0 = thread_cpu_seconds();
    double wall() const {
        return std::chrono::duration<double>(std::chrono::steady_clock::now() - wall0).count();
    }
    double cpu() const { return thread_cpu_seconds() - cpu0; }
};

// Best-of-`repeats` thread CPU time of f() after one warm-up call (single-threaded work only).
template <class F>
double best_cpu_seconds(F&& f, int repeats = 5) {
    f();
    double best = 1e30;
    for (int r = 0; r < repeats; ++r) {
        const Stopwatch sw;
        f();
        best = std::min(best, sw.cpu());
    }
    return best;
}

// fp32 FLOP/s of one core (an FMA = 2 flops), on the widest ISA this CPU has kernels for.
double fma_flops_per_second_1t() {
    static const double rate = [] {
        // Opaque inputs: with compile-time constants the compiler may evaluate the loop itself.
        volatile int64_t opaque_iters = int64_t(1) << 22;
        const int64_t iters = opaque_iters;
        volatile float sink = 0;
        const int lanes = obl::bench::fma_lanes();
        const double s = best_cpu_seconds([&] { sink = obl::bench::fma_loop(iters); });
        (void)sink;
        return 2.0 * lanes * obl::bench::kFmaAccumulators * static_cast<double>(iters) / s;
    }();
    return rate;
}

// Standard normals per second of one core: the fast Philox + Box-Muller fill on 16 MB.
double normals_per_second_1t() {
    static const double rate = [] {
        const int saved = obl::num_threads();
        obl::set_num_threads(1);
        const int64_t n = int64_t(1) << 22;
        std::vector<float> y(static_cast<size_t>(n));
        const double s = best_cpu_seconds([&] {
            obl::kernels::fill_normal_fast_cpu(y.data(), obl::kernels::RandomDims{n, 1, 0}, 0, 1);
        });
        obl::set_num_threads(saved);
        return static_cast<double>(n) / s;
    }();
    return rate;
}

// The bound (draws/s) on `threads` cores for D-value draws labelled by a (K, D) linear head.
double limit_draws_per_second(int threads, int64_t d, int64_t k) {
    const double per_draw = static_cast<double>(d) / normals_per_second_1t() +
                            2.0 * static_cast<double>(d * k) / fma_flops_per_second_1t();
    return threads / per_draw;
}

// ---- BM_synthetic_limit
// ----------------------------------------------------------------------------

// ResNet-20's head (Sequential holding the Linear) and its weight/bias, or a seeded stand-in.
struct Head {
    std::shared_ptr<obl::Module> module;
    Tensor weight, bias;
    std::string source;
};

Head make_head() {
    Head h;
    std::string why;
    const std::string path = shared_resnet20(&why);
    if (!path.empty()) {
        const obl::LoadedModel loaded = obl::load_zoo_model(path, "cifar_resnet20");
        obl::Split sp = obl::split(*loaded.model, "pre_logits", loaded.entry->input_shape());
        h.module = sp.head;
        for (const auto& [name, t] : sp.head->named_parameters()) {
            if (name.size() >= 6 && name.compare(name.size() - 6, 6, "weight") == 0) h.weight = t;
            if (name.size() >= 4 && name.compare(name.size() - 4, 4, "bias") == 0) h.bias = t;
        }
        h.source = "resnet20 head";
    } else {
        auto lin = std::make_shared<obl::Linear>(kD, kK, true, 3);
        h.module =
            std::make_shared<obl::Sequential>(std::vector<std::shared_ptr<obl::Module>>{lin});
        h.weight = lin->weight();
        h.bias = lin->bias();
        h.source = "seeded Linear(64, 10)";
    }
    h.module->eval();
    return h;
}

// draws/s and pct_of_limit by the wall clock; on one thread also by its CPU time (draws/cpu_s,
// pct_of_limit_cpu), which a busy machine does not distort.
void set_limit_counters(benchmark::State& state, double draws, const Stopwatch& sw, int threads) {
    const double limit = limit_draws_per_second(threads, kD, kK);
    state.counters["draws/s"] = draws / sw.wall();
    state.counters["limit_draws/s"] = limit;
    state.counters["pct_of_limit"] = 100.0 * draws / sw.wall() / limit;
    if (threads == 1) {
        state.counters["draws/cpu_s"] = draws / sw.cpu();
        state.counters["pct_of_limit_cpu"] = 100.0 * draws / sw.cpu() / limit;
    }
    state.counters["normals/s_1t"] = normals_per_second_1t();
    state.counters["fma_GFLOP/s_1t"] = fma_flops_per_second_1t() / 1e9;
}

void bm_limit_block(benchmark::State& state, int threads) {
    const Head head = make_head();
    if (!head.weight.defined()) {
        state.SkipWithError("the head has no weight");
        return;
    }
    const int saved = obl::num_threads();
    normals_per_second_1t();  // the peaks first, on one thread, outside the timing
    fma_flops_per_second_1t();
    obl::set_num_threads(threads);
    const obl::DrawSpec spec = obl::draw_spec(obl::SamplerConfig{}, {kD}, obl::Device::cpu());
    const int64_t block = 16384;  // sample_embeddings' block at D = 64
    int64_t first = 0;
    benchmark::DoNotOptimize(obl::synth_sample_block(head.weight, head.bias, spec, 0, block, 1));
    const Stopwatch sw;
    for (auto _ : state) {
        benchmark::DoNotOptimize(
            obl::synth_sample_block(head.weight, head.bias, spec, first, block, 1));
        first += block;
    }
    set_limit_counters(state, static_cast<double>(first), sw, threads);
    obl::set_num_threads(saved);
    state.SetLabel(head.source);
}

void bm_limit_sampler(benchmark::State& state, int threads) {
    const Head head = make_head();
    const int saved = obl::num_threads();
    normals_per_second_1t();
    fma_flops_per_second_1t();
    obl::set_num_threads(threads);
    obl::SamplerConfig cfg;
    cfg.per_class = kPerClass;
    double draws = 0;
    uint64_t seed = 0;
    benchmark::DoNotOptimize(obl::sample_embeddings(*head.module, {kD}, cfg, 99).z.f32());
    const Stopwatch sw;
    for (auto _ : state) {
        const obl::SyntheticSet set = obl::sample_embeddings(*head.module, {kD}, cfg, seed++);
        draws += static_cast<double>(set.stats.draws + set.stats.targeted_draws);
        benchmark::DoNotOptimize(set.z.f32());
    }
    set_limit_counters(state, draws, sw, threads);
    obl::set_num_threads(saved);
    state.SetLabel(head.source);
}

bool register_all() {
    for (const char* method :
         {"neg_grad_plus", "random_labels", "boundary_shrink", "scrub", "delete"}) {
        const std::string m = method;
        benchmark::RegisterBenchmark(
            ("BM_forget_request/" + m + "/class:3/per_class:" + std::to_string(kPerClass)).c_str(),
            [m](benchmark::State& st) { bm_forget_request(st, m); })
            ->UseRealTime()
            ->Unit(benchmark::kMillisecond);
    }
    const std::string dims = "/D:" + std::to_string(kD) + "_K:" + std::to_string(kK);
    for (int threads : {2, 1}) {
        const std::string t = "/threads:" + std::to_string(threads);
        benchmark::RegisterBenchmark(
            ("BM_synthetic_limit/fused_block" + t + dims).c_str(),
            [threads](benchmark::State& st) { bm_limit_block(st, threads); })
            ->UseRealTime()
            ->Unit(benchmark::kMillisecond);
        benchmark::RegisterBenchmark(
            ("BM_synthetic_limit/sampler" + t + dims + "/per_class:" + std::to_string(kPerClass))
                .c_str(),
            [threads](benchmark::State& st) { bm_limit_sampler(st, threads); })
            ->UseRealTime()
            ->Unit(benchmark::kMillisecond);
    }
    return true;
}

// bench/ is an executable, so this static registration cannot be dropped by the linker.
[[maybe_unused]] const bool registered = register_all();

}  // namespace
