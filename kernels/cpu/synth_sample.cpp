// CPU reference of the synthetic-embedding sampler (kernels/synth_sample.h): the unfused
// composition of existing reference kernels, exactly as DESIGN.md §G describes it:
//   random fill (kernels/random.h) -> z = loc + scale * v -> gemm_cpu (logits = z W^T) -> + b
//   -> arg_reduce_cpu (label) -> margin loop,
// and the quota filter, a sequential pass in row order (the definition the CUDA scan reproduces).
#include "kernels/synth_sample.h"

#include <limits>
#include <vector>

#include "kernels/common/check.h"
#include "kernels/common/parallel.h"
#include "kernels/gemm.h"
#include "kernels/random.h"
#include "kernels/reduce.h"

namespace obl::kernels {

namespace {

void check_dims(const SynthDims& d, bool need_k, const char* what) {
    OBL_CHECK(d.d >= 1 && d.count >= 0 && d.first >= 0 && (!need_k || d.k >= 1), what,
              ": need D >= 1, B >= 0, first >= 0", need_k ? ", K >= 1" : "", "; got D = ", d.d,
              ", B = ", d.count, ", first = ", d.first, ", K = ", d.k);
}

// The Philox range of the call: B * D elements starting at candidate `first`.
RandomDims stream_of(const SynthDims& d) {
    RandomDims r;
    r.n = d.count * d.d;
    r.seed = d.seed;
    r.offset = d.offset + static_cast<uint64_t>(d.first) * static_cast<uint64_t>(d.d);
    return r;
}

}  // namespace

template <class T>
void synth_draw_cpu(T* z, SynthDims d, const SynthDistParams& p) {
    check_dims(d, false, "synth_draw_cpu");
    if (d.count == 0) return;
    const RandomDims r = stream_of(d);
    // Standard variates v (mean 0, variance 1), from the reference fills.
    switch (p.kind) {
        case SynthDist::Normal:
            fill_normal_cpu<T>(z, r, 0.0, 1.0);
            break;
        case SynthDist::Uniform:
            fill_uniform_cpu<T>(z, r, kSynthUniformLo, kSynthUniformHi);
            break;
        case SynthDist::Laplace: {
            std::vector<double> u(static_cast<size_t>(r.n));
            fill_uniform_cpu<double>(u.data(), r, 0.0, 1.0);  // exact u in (0, 1)
            for (int64_t e = 0; e < r.n; ++e) z[e] = static_cast<T>(synth_laplace_variate(u[e]));
            break;
        }
        default:
            OBL_THROW("synth_draw_cpu: unknown distribution ", static_cast<int>(p.kind));
    }
        // z = loc + scale * v, per dimension (a product then a sum, each rounded to T).
#pragma omp parallel for if (parallel_worth_it(r.n)) schedule(static)
    for (int64_t t = 0; t < d.count; ++t) {
        T* row = z + t * d.d;
        for (int64_t i = 0; i < d.d; ++i) {
            const T loc = static_cast<T>(p.loc ? p.loc[i] : p.loc0);
            const T scale = static_cast<T>(p.scale ? p.scale[i] : p.scale0);
            row[i] = loc + scale * row[i];
        }
    }
}

template <class T>
void synth_sample_cpu(int64_t* label, T* margin, T* logits, T* z, const T* weight, const T* bias,
                      SynthDims d, const SynthDistParams& p) {
    check_dims(d, true, "synth_sample_cpu");
    OBL_CHECK(label && margin && weight, "synth_sample_cpu: label, margin and weight are required");
    if (d.count == 0) return;
    std::vector<T> z_scratch, logits_scratch;
    if (!z) z_scratch.resize(static_cast<size_t>(d.count * d.d));
    if (!logits) logits_scratch.resize(static_cast<size_t>(d.count * d.k));
    T* zb = z ? z : z_scratch.data();
    T* lb = logits ? logits : logits_scratch.data();

    synth_draw_cpu<T>(zb, d, p);
    GemmDims g;
    g.m = d.count;  // logits (B, K) = z (B, D) W^T, W (K, D)
    g.n = d.k;
    g.k = d.d;
    g.trans_b = true;
    gemm_cpu<T>(lb, zb, weight, g);
    if (bias) {
#pragma omp parallel for if (parallel_worth_it(d.count * d.k)) schedule(static)
        for (int64_t t = 0; t < d.count; ++t)
            for (int64_t k = 0; k < d.k; ++k) lb[t * d.k + k] += bias[k];
    }
    ReduceDims rd;
    rd.outer = d.count;
    rd.r = d.k;
    arg_reduce_cpu<T>(label, lb, rd, ReduceOp::Max);
    // margin = logit of the label - the best other logit.
#pragma omp parallel for if (parallel_worth_it(d.count * d.k)) schedule(static)
    for (int64_t t = 0; t < d.count; ++t) {
        const T* row = lb + t * d.k;
        T second = -std::numeric_limits<T>::infinity();
        for (int64_t k = 0; k < d.k; ++k)
            if (k != label[t] && row[k] > second) second = row[k];
        margin[t] = row[label[t]] - second;
    }
}

void synth_quota_cpu(uint8_t* accept, int64_t* hits, int64_t* done_at, int64_t* filled,
                     const int64_t* label, const int64_t* quota, SynthQuotaDims d) {
    OBL_CHECK(d.count >= 0 && d.k >= 1,
              "synth_quota_cpu: need B >= 0 and K >= 1, got B = ", d.count, ", K = ", d.k);
    for (int64_t k = 0; k < d.k; ++k) {
        hits[k] = 0;
        done_at[k] = -1;
    }
    for (int64_t t = 0; t < d.count; ++t) {
        const int64_t c = label[t];
        OBL_CHECK(c >= 0 && c < d.k, "synth_quota_cpu: label ", c, " at row ", t, " outside [0, ",
                  d.k, ")");
        ++hits[c];
        accept[t] = filled[c] < quota[c];
        if (accept[t] && ++filled[c] == quota[c]) done_at[c] = t;
    }
}

template void synth_draw_cpu<float>(float*, SynthDims, const SynthDistParams&);
template void synth_draw_cpu<double>(double*, SynthDims, const SynthDistParams&);
template void synth_sample_cpu<float>(int64_t*, float*, float*, float*, const float*, const float*,
                                      SynthDims, const SynthDistParams&);
template void synth_sample_cpu<double>(int64_t*, double*, double*, double*, const double*,
                                       const double*, SynthDims, const SynthDistParams&);

}  // namespace obl::kernels
