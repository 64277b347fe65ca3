// Benchmarks of KL divergence, batchmean, forward + backward (kernels/kl_div.h):
//   BM_kl_div_fwdbwd/<cpu|cuda>/<ref|cuda>/<N>x<K>
// Checked before timing: the f32 CPU reference against the f64 one, CUDA against the f32 CPU
// reference (SkipWithError on mismatch). Counters: rows/s and GB/s over the minimum traffic
// (forward 8·N·K read; backward 4·N·K read + 4·N·K written).
#include <benchmark/benchmark.h>

#include "bench/bench_util.h"
#include "kernels/kl_div.h"

namespace obl {
namespace {

using kernels::KlDivDims;

// log_q: log-probabilities of random rows; p: normalised random rows (both (N, K)).
Tensor log_distribution(KlDivDims d, uint64_t seed, bool take_log) {
    std::vector<float> v = bench::random_floats(d.n * d.k, 0.01f, 1.f, seed);
    for (int64_t r = 0; r < d.n; ++r) {
        float s = 0;
        for (int64_t j = 0; j < d.k; ++j) s += v[r * d.k + j];
        for (int64_t j = 0; j < d.k; ++j) {
            float& x = v[r * d.k + j];
            x = take_log ? std::log(x / s) : x / s;
        }
    }
    return Tensor::from_vector(v, {d.n, d.k});
}

template <class T>
void run_cpu(Tensor& loss, Tensor& dx, const Tensor& log_q, const Tensor& p, const Tensor& one,
             KlDivDims d) {
    kernels::kl_div_forward_cpu<T>(loss.data<T>(), log_q.data<T>(), p.data<T>(), d);
    kernels::kl_div_backward_cpu<T>(dx.data<T>(), one.data<T>(), p.data<T>(), d);
}

void bench_kl(benchmark::State& st, bool gpu, KlDivDims d) {
    if (gpu && !cuda_available()) {
        st.SkipWithError("no GPU");
        return;
    }
    const Device dev = gpu ? Device::cuda() : Device::cpu();
    const Tensor log_q_host = log_distribution(d, 1, true), p_host = log_distribution(d, 2, false);
    const Tensor log_q = log_q_host.to(dev), p = p_host.to(dev);
    Tensor loss = Tensor::empty({}, DType::F32, dev),
           dx = Tensor::empty({d.n, d.k}, DType::F32, dev);
    const Tensor one = Tensor::ones({}, DType::F32, dev);
    auto launch = [&] {
        if (gpu) {
            OBL_CUDA_ONLY(kernels::kl_div_forward_cuda(loss.f32(), log_q.f32(), p.f32(), d,
                                                       cuda_context().stream());
                          kernels::kl_div_backward_cuda(dx.f32(), one.f32(), p.f32(), d,
                                                        cuda_context().stream()));
        } else {
            run_cpu<float>(loss, dx, log_q, p, one, d);
        }
    };
    launch();
    const DType rt = gpu ? DType::F32 : DType::F64;
    const Tensor lq = log_q_host.to(rt), pr = p_host.to(rt), one_r = Tensor::ones({}, rt);
    Tensor ref_loss = Tensor::empty({}, rt), ref_dx = Tensor::empty({d.n, d.k}, rt);
    if (gpu)
        run_cpu<float>(ref_loss, ref_dx, lq, pr, one_r, d);
    else
        run_cpu<double>(ref_loss, ref_dx, lq, pr, one_r, d);
    std::string err = bench::mismatch("loss", loss, ref_loss);
    if (err.empty()) err = bench::mismatch("dlog_q", dx, ref_dx);
    if (!err.empty()) {
        st.SkipWithError(err.c_str());
        return;
    }
    bench::time_it(st, gpu, 16 * d.n * d.k, d.n, launch);
}

void register_all() {
    for (KlDivDims d : {KlDivDims{256, 10}, KlDivDims{4096, 200}})
        bench::register_bench("BM_kl_div_fwdbwd/cpu/ref/" + bench::dims_tag(d.n, d.k), false,
                              [=](benchmark::State& st) { bench_kl(st, false, d); });
    for (KlDivDims d : {KlDivDims{4096, 200}, KlDivDims{65536, 1000}})
        bench::register_bench("BM_kl_div_fwdbwd/cuda/cuda/" + bench::dims_tag(d.n, d.k), true,
                              [=](benchmark::State& st) { bench_kl(st, true, d); });
}

[[maybe_unused]] const bool kRegistered = (register_all(), true);

}  // namespace
}  // namespace obl
