// Fast f32 GEMM on the CPU: C = alpha * op(A) op(B) + beta * C (kernels/gemm.h), the driver
// around the register-tiled micro-kernels of gemm_avx512.cpp / gemm_avx2.cpp (or a portable
// scalar one), chosen once at run time from cpu_isa().
//
// Scheme (GotoBLAS: Goto & van de Geijn, TOMS 2008; BLIS: Van Zee & van de Geijn, TOMS 2015):
//   for each panel of NC columns of C (NC: as many as fit kPanelFloats packed B floats)
//     for each tile = a block of MC rows x a group of NR strips      [threads take tiles]
//       for each K block of KC (in order; K is never split across threads)
//         pack A(block, K block) into MR-tall k-major strips         [per thread, L2-resident]
//         for each B strip (jr): KC x NR floats, packed once by whichever thread needs it first
//           for each A strip (ir): micro-kernel, MR x NR of C in registers
// Packing zero-pads edges and absorbs the transposes, so the micro-kernel sees one layout (the
// transposing packs use 16 x 16 in-register transposes on AVX-512). The first K block applies
// beta, later ones accumulate (beta = 1).
//
// Skinny shapes skip the packing that does not pay for itself: with N <= 4 NR, each A element is
// used at most 4 times per K block, so A is read in place by a strided kernel (N <= 16 takes the
// narrow kernel: 8 x 16 on AVX-512); with M <= MR and B not transposed, B is read in place.
//
// Determinism: every C element is the same chain of FMAs over k in increasing order (the K blocks
// depend only on K), whichever tile and thread computes it, so the result is bit-identical for
// any thread count. Threads: OpenMP over the tiles, dynamic schedule, no barrier inside (see
// gemm_one); small problems stay on the calling thread, and batches of small items go parallel
// over the batch instead. Pack buffers are thread-local, 64-byte aligned and only grow: no
// allocation per call in the steady state.
//
// Measured on the 2-core Zen 4 of this project (fp32 FMA peak 116 GFLOP/s per core), one thread,
// 1024^3: 101 GFLOP/s, OpenBLAS 0.3.21 97 (bench/kernels/bench_gemm.cpp has the full table).
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <thread>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "kernels/common/check.h"
#include "kernels/common/cpu_features.h"
#include "kernels/common/parallel.h"
#include "kernels/cpu/fast/gemm_internal.h"
#include "kernels/gemm.h"

namespace obl::kernels {

namespace gemm_detail {
namespace {

// ---- portable fallback micro-kernel (no SIMD intrinsics; the compiler vectorises what it can) --

template <int MR, int NR, bool kPackedA>
void micro_kernel_scalar(const Tile& t) {
    float acc[MR][NR] = {};
    const float* row[MR];
    for (int i = 0; i < MR; ++i) {
        row[i] = kPackedA ? t.a + i : t.a + (i < t.m ? i : 0) * t.a_rs;
    }
    const int64_t a_ks = kPackedA ? MR : t.a_ks;
    for (int64_t k = 0; k < t.kc; ++k) {
        const float* b = t.b + k * t.b_ks;
        for (int i = 0; i < MR; ++i) {
            const float aik = row[i][k * a_ks];
            for (int j = 0; j < t.n; ++j) acc[i][j] += aik * b[j];
        }
    }
    for (int i = 0; i < t.m; ++i) {
        float* c = t.c + i * t.ldc;
        for (int j = 0; j < t.n; ++j) {
            const float r = t.alpha * acc[i][j];
            c[j] = t.beta != 0.f ? r + t.beta * c[j] : r;
        }
    }
}

}  // namespace

KernelSet scalar_kernel_set() {
    KernelSet s;
    s.isa = "scalar";
    s.mr = 4;
    s.nr = 16;
    s.packed = &micro_kernel_scalar<4, 16, true>;
    s.packed_half = &micro_kernel_scalar<4, 8, true>;
    s.strided = &micro_kernel_scalar<4, 16, false>;
    s.strided_half = &micro_kernel_scalar<4, 8, false>;
    s.narrow = {4, 16, &micro_kernel_scalar<4, 16, false>};
    s.pack_transposed = &pack_transposed_scalar;
    return s;
}

void pack_transposed_scalar(float* dst, int w, const float* src, int64_t ld, int count,
                            int64_t kc) {
    for (int i = 0; i < count; ++i) {
        const float* s = src + i * ld;
        for (int64_t k = 0; k < kc; ++k) dst[k * w + i] = s[k];
    }
    for (int i = count; i < w; ++i)
        for (int64_t k = 0; k < kc; ++k) dst[k * w + i] = 0.f;
}

namespace {

const KernelSet& kernel_set() {
    static const KernelSet set = [] {
        switch (cpu_isa()) {
            case CpuIsa::Avx512:
                return avx512_kernel_set();
            case CpuIsa::Avx2:
                return avx2_kernel_set();
            default:
                return scalar_kernel_set();
        }
    }();
    return set;
}

// ---- blocking parameters ----------------------------------------------------------------------
// KC: the depth of one pass; each C tile is loaded and stored K / KC times. Measured on 1024^3
// (one thread, Zen 4): KC = 256 gave 94, 512 gave 101 GFLOP/s, 1024 no better; a 14 x 512 A strip
// (28 KB) and a 512 x 32 B strip (64 KB) no longer both fit the 32 KB L1, but L2 feeds them fast
// enough, and fewer C round trips win. MC (about 160 rows): the packed A block (160 x 512 floats,
// 320 KB) stays in the 1 MB L2 while every B strip of the panel passes over it. The packed B
// panel (K x NC floats, at most kPanelFloats) is shared by all threads through L3.
constexpr int64_t kKc = 512;
constexpr int64_t kMcRows = 160;
constexpr int64_t kPanelFloats = int64_t(1) << 22;  // 16 MB
// A is read in place (no packing) when C has at most this many NR-wide strips: each A element
// is then loaded this many times per K block, from L1/L2, which costs less than packing it.
constexpr int64_t kDirectAStrips = 4;
// Row blocks per thread at least, so that the dynamic schedule evens out the load.
constexpr int64_t kBlocksPerThread = 3;
// GEMM work units per parallel_worth_it unit: m*n*k / 64 >= 32k means >= 4 MFLOP (~40 us on one
// core); below that the thread wake-up costs more than the second core saves (256x512x10 head).
constexpr int64_t kMnkPerWorkUnit = 64;
// Batched items up to this m*n*k run one per thread instead of splitting each item.
constexpr int64_t kSmallItemMnk = int64_t(1) << 24;

int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }
int64_t round_up(int64_t a, int64_t b) { return ceil_div(a, b) * b; }

// Grows only; 64-byte aligned so that packed rows of 16 floats are cache-line aligned.
class PackBuffer {
   public:
    PackBuffer() = default;
    PackBuffer(const PackBuffer&) = delete;
    PackBuffer& operator=(const PackBuffer&) = delete;
    ~PackBuffer() { std::free(data_); }

    float* get(int64_t floats) {
        const size_t need = static_cast<size_t>(floats);
        if (need > capacity_) {
            std::free(data_);
            const size_t bytes = static_cast<size_t>(round_up(floats * 4, 64));
            data_ = static_cast<float*>(std::aligned_alloc(64, bytes));
            capacity_ = data_ ? need : 0;
            OBL_CHECK(data_ != nullptr, "gemm: cannot allocate a ", bytes, "-byte pack buffer");
        }
        return data_;
    }

   private:
    float* data_ = nullptr;
    size_t capacity_ = 0;
};

thread_local PackBuffer t_pack_a;  // this thread's A block
thread_local PackBuffer t_pack_b;  // the B panel of the GEMM this thread launched

// Grows only: the "B strip packed" flags of the GEMM this thread launched (see gemm_one).
class FlagBuffer {
   public:
    std::atomic<uint8_t>* get(int64_t count) {
        if (count > capacity_) {
            data_ = std::make_unique<std::atomic<uint8_t>[]>(static_cast<size_t>(count));
            capacity_ = count;
        }
        return data_.get();
    }

   private:
    std::unique_ptr<std::atomic<uint8_t>[]> data_;
    int64_t capacity_ = 0;
};

thread_local FlagBuffer t_ready;

// One batch item. A(i, k) = a[trans_a ? k * lda + i : i * lda + k]; B(k, j) likewise.
struct Problem {
    float* c;
    const float* a;
    const float* b;
    int64_t m, n, k, lda, ldb;
    bool trans_a, trans_b;
    float alpha, beta;
};

// Packs rows [i0, i0 + rows) x cols [k0, k0 + kc) of A as MR-tall strips: strip s holds
// ap[s * kc * mr + k * mr + i] = A(i0 + s * mr + i, k0 + k), rows past the end zero.
void pack_a(float* ap, const Problem& p, int64_t i0, int64_t rows, int64_t k0, int64_t kc, int mr,
            PackTransposed pack_t) {
    for (int64_t s = 0; s * mr < rows; ++s) {
        float* dst = ap + s * kc * mr;
        const int64_t r0 = i0 + s * mr;
        const int rs = static_cast<int>(std::min<int64_t>(mr, rows - s * mr));
        if (p.trans_a) {  // A stored (K, M): rows of the strip are contiguous runs of A
            for (int64_t k = 0; k < kc; ++k) {
                const float* src = p.a + (k0 + k) * p.lda + r0;
                float* d = dst + k * mr;
                for (int i = 0; i < rs; ++i) d[i] = src[i];
                for (int i = rs; i < mr; ++i) d[i] = 0.f;
            }
        } else {
            pack_t(dst, mr, p.a + r0 * p.lda + k0, p.lda, rs, kc);
        }
    }
}

// Packs one NR-wide strip: bp[k * nr + j] = B(k0 + k, j0 + j) for j < cols, zero for j >= cols.
void pack_b_strip(float* bp, const Problem& p, int64_t k0, int64_t kc, int64_t j0, int cols, int nr,
                  PackTransposed pack_t) {
    if (p.trans_b) {  // B stored (N, K)
        pack_t(bp, nr, p.b + j0 * p.ldb + k0, p.ldb, cols, kc);
    } else {
        for (int64_t k = 0; k < kc; ++k) {
            const float* src = p.b + (k0 + k) * p.ldb + j0;
            float* d = bp + k * nr;
            std::memcpy(d, src, sizeof(float) * cols);
            for (int j = cols; j < nr; ++j) d[j] = 0.f;
        }
    }
}

// C = alpha * 0 + beta * C for K == 0 or alpha == 0 (beta == 0 writes zeros, ignoring NaN).
void scale_c(float* c, int64_t count, float beta) {
#pragma omp parallel for if (parallel_worth_it(count)) schedule(static)
    for (int64_t i = 0; i < count; ++i) c[i] = beta == 0.f ? 0.f : beta * c[i];
}

// ---- oversubscription guard ------------------------------------------------------------------
// On a machine shared with other busy processes, an OpenMP region makes the calling thread wait
// for its team mate twice: to dock from the previous region before this one starts, and at the
// join. libgomp waits by spinning without yielding, which can keep a preempted mate off the core
// for a whole time slice (milliseconds). Measured here with 1-3 other busy processes on the 2
// cores: 256^3 took 2-15 ms per call on two threads against 0.5 ms on one (OpenBLAS, whose threads
// yield, degrades to one core's speed). So each parallel GEMM times the calling thread's two waits:
// entering the region (microseconds on an idle machine) and the join (about one tile at most when
// the mate runs). When they exceed both kWaitLimitNs and a quarter of the calling thread's own
// work, GEMMs of up to kSoloMaxMnk run on the calling thread alone for the next kSoloPeriodNs;
// then one parallel call probes again. Larger GEMMs always use the team: a time slice lost per
// call is small next to their work. Only the speed changes: results are bit-identical for any
// thread count. (The timestamp is the one piece of process-wide mutable state here, a performance
// hint like a cache; OMP_WAIT_POLICY=passive removes the cause, for every op.)
constexpr int64_t kWaitLimitNs = 200'000;          // 200 us
constexpr int64_t kSoloPeriodNs = 200'000'000;     // 200 ms
constexpr int64_t kSoloMaxMnk = int64_t(1) << 29;  // 1 GFLOP, ~10 ms on one core
std::atomic<int64_t> g_solo_until_ns{0};

int64_t now_ns() {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

bool solo_now() { return now_ns() < g_solo_until_ns.load(std::memory_order_relaxed); }

// The calling thread's timeline of one parallel region: fork, entered, own tiles done, joined.
void note_waits(int64_t fork, int64_t entered, int64_t done, int64_t joined) {
    const int64_t waited = (entered - fork) + (joined - done);
    if (waited > kWaitLimitNs && 4 * waited > done - entered) {
        g_solo_until_ns.store(joined + kSoloPeriodNs, std::memory_order_relaxed);
    }
}

// Which thread of the team this is (0 without OpenMP).
int thread_index() {
#ifdef _OPENMP
    return omp_get_thread_num();
#else
    return 0;
#endif
}

// One C = alpha op(A) op(B) + beta C item on `threads` threads (1: the calling thread only).
//
// Synchronisation: none inside the parallel region but one flag per packed B strip. Whichever
// thread first needs strip (q, g) claims it (0 -> 1), packs it and publishes it (-> 2); a thread
// that finds it claimed but unpublished yields until it is. So there is no barrier between
// packing and computing: on a shared, oversubscribed machine a thread that is not running never
// holds the others up (a barrier makes the running thread wait a whole time slice for it), and
// the calling thread can do all the work alone. Threads start their walk over the strips at
// different offsets, so they pack disjoint strips first. The only wait is OpenMP's join.
void gemm_one(const Problem& p, const KernelSet& ks, int threads) {
    // Paths: which operand is packed, and which kernel shape.
    const bool narrow = p.n <= ks.narrow.nr && ks.narrow.fn != nullptr;
    const int mr = narrow ? ks.narrow.mr : ks.mr;
    const int nr = narrow ? ks.narrow.nr : ks.nr;
    const bool direct_a = p.n <= nr * kDirectAStrips;
    const bool direct_b = !p.trans_b && p.m <= mr;

    const int64_t nk = ceil_div(p.k, kKc);  // K blocks: [q * K / nk, (q + 1) * K / nk)
    const int64_t kc_max = ceil_div(p.k, nk);
    // Column panels of at most kPanelFloats packed floats.
    const int64_t nc_max =
        std::min(round_up(p.n, nr), round_up(std::max<int64_t>(kPanelFloats / p.k, nr), nr));
    const int64_t strips_m = ceil_div(p.m, mr);
    // Row blocks of whole strips (MC rows each at most); with threads, enough blocks that the
    // dynamic schedule balances them.
    int64_t blocks_m = ceil_div(strips_m, std::max<int64_t>(1, kMcRows / mr));
    if (threads > 1) blocks_m = std::min(strips_m, std::max(blocks_m, kBlocksPerThread * threads));
    const int64_t block_strips_max = ceil_div(strips_m, blocks_m);

    float* bp = direct_b ? nullptr : t_pack_b.get(p.k * nc_max);
    std::atomic<uint8_t>* ready = direct_b ? nullptr : t_ready.get(nk * ceil_div(nc_max, nr));

    for (int64_t jc = 0; jc < p.n; jc += nc_max) {
        const int64_t nc = std::min(nc_max, p.n - jc);
        const int64_t strips_n = ceil_div(nc, nr);
        const int64_t nc_pad = strips_n * nr;
        // Column groups: split N too when there are fewer row blocks than threads want.
        const int64_t groups =
            threads > 1 ? std::min(strips_n, ceil_div(kBlocksPerThread * threads, blocks_m)) : 1;
        const int64_t tiles = blocks_m * groups;
        if (!direct_b) {
            for (int64_t i = 0; i < nk * strips_n; ++i)
                ready[i].store(0, std::memory_order_relaxed);
        }
        // B strip g of K block q, packed on first use: kc x nr floats at bp + k0 * nc_pad + g kc
        // nr.
        auto b_strip = [&](int64_t q, int64_t g, int64_t k0, int64_t kc) {
            float* dst = bp + k0 * nc_pad + g * kc * nr;
            std::atomic<uint8_t>& flag = ready[q * strips_n + g];
            uint8_t state = flag.load(std::memory_order_acquire);
            if (state == 2) return dst;
            if (state == 0 && flag.compare_exchange_strong(state, 1, std::memory_order_acquire)) {
                const int cols = static_cast<int>(std::min<int64_t>(nr, nc - g * nr));
                pack_b_strip(dst, p, k0, kc, jc + g * nr, cols, nr, ks.pack_transposed);
                flag.store(2, std::memory_order_release);
                return dst;
            }
            while (flag.load(std::memory_order_acquire) != 2) std::this_thread::yield();
            return dst;
        };
        const int64_t fork_ns = threads > 1 ? now_ns() : 0;
        int64_t entered_ns = 0, done_ns = 0;  // the calling thread's, for note_waits
#pragma omp parallel num_threads(threads) if (threads > 1)
        {
            const int tid = thread_index();
            if (threads > 1 && tid == 0) entered_ns = now_ns();
            float* ap = direct_a ? nullptr : t_pack_a.get(block_strips_max * mr * kc_max);
            Tile t;
            t.ldc = p.n;
            t.alpha = p.alpha;
#pragma omp for schedule(dynamic, 1) nowait
            for (int64_t tile = 0; tile < tiles; ++tile) {
                const int64_t bm = tile / groups, bn = tile % groups;
                const int64_t s0 = bm * strips_m / blocks_m, s1 = (bm + 1) * strips_m / blocks_m;
                const int64_t g0 = bn * strips_n / groups, g1 = (bn + 1) * strips_n / groups;
                const int64_t i0 = s0 * mr, rows = std::min(p.m, s1 * mr) - i0;
                const int64_t width = g1 - g0, offset = tid * width / threads;
                for (int64_t q = 0; q < nk; ++q) {  // K blocks, always in this order
                    const int64_t k0 = q * p.k / nk, kc = (q + 1) * p.k / nk - k0;
                    t.kc = kc;
                    t.beta = q == 0 ? p.beta : 1.f;
                    if (!direct_a) pack_a(ap, p, i0, rows, k0, kc, mr, ks.pack_transposed);
                    for (int64_t w = 0; w < width; ++w) {  // B strips (jr), rotated per thread
                        const int64_t g = g0 + (w + offset) % width;
                        const int64_t j = jc + g * nr;
                        t.n = static_cast<int>(std::min<int64_t>(nr, p.n - j));
                        if (direct_b) {
                            t.b = p.b + k0 * p.ldb + j;
                            t.b_ks = p.ldb;
                        } else {
                            t.b = b_strip(q, g, k0, kc);
                            t.b_ks = nr;
                        }
                        MicroKernel fn;
                        if (narrow) {
                            fn = ks.narrow.fn;
                        } else if (direct_a) {
                            fn = t.n <= nr / 2 ? ks.strided_half : ks.strided;
                        } else {
                            fn = t.n <= nr / 2 ? ks.packed_half : ks.packed;
                        }
                        for (int64_t s = s0; s < s1; ++s) {  // A strips (ir)
                            const int64_t i = s * mr;
                            t.m = static_cast<int>(std::min<int64_t>(mr, p.m - i));
                            if (!direct_a) {
                                t.a = ap + (s - s0) * kc * mr;
                                t.a_rs = 1;
                                t.a_ks = mr;
                            } else if (p.trans_a) {
                                t.a = p.a + k0 * p.lda + i;
                                t.a_rs = 1;
                                t.a_ks = p.lda;
                            } else {
                                t.a = p.a + i * p.lda + k0;
                                t.a_rs = p.lda;
                                t.a_ks = 1;
                            }
                            t.c = p.c + i * p.n + j;
                            fn(t);
                        }
                    }
                }
            }
            if (threads > 1 && tid == 0) done_ns = now_ns();
        }
        if (threads > 1) note_waits(fork_ns, entered_ns, done_ns, now_ns());
    }
}

int threads_for(int64_t mnk) {
#ifdef _OPENMP
    if (omp_in_parallel()) return 1;  // called from a parallel region: stay on this thread
#endif
    if (!parallel_worth_it(mnk / kMnkPerWorkUnit)) return 1;
    if (mnk <= kSoloMaxMnk && solo_now()) return 1;
    return num_threads();
}

}  // namespace

void gemm_with_kernels(const KernelSet& ks, float* c, const float* a, const float* b, GemmDims d,
                       float alpha, float beta) {
    OBL_CHECK(d.batch >= 0 && d.m >= 0 && d.n >= 0 && d.k >= 0, "gemm: negative size: batch ",
              d.batch, ", m ", d.m, ", n ", d.n, ", k ", d.k);
    if (d.batch == 0 || d.m == 0 || d.n == 0) return;
    OBL_CHECK(c != nullptr && (d.k == 0 || (a != nullptr && b != nullptr)), "gemm: null pointer");

    const int64_t item_mnk = d.m * d.n * d.k;
    const int threads = threads_for(item_mnk * d.batch);
    if (d.k == 0 || alpha == 0.f) {
        scale_c(c, d.batch * d.m * d.n, beta);
        return;
    }
    auto item = [&](int64_t i) {
        return Problem{c + i * d.m * d.n,
                       a + i * d.m * d.k,
                       b + i * d.k * d.n,
                       d.m,
                       d.n,
                       d.k,
                       d.trans_a ? d.m : d.k,
                       d.trans_b ? d.k : d.n,
                       d.trans_a,
                       d.trans_b,
                       alpha,
                       beta};
    };
    if (threads > 1 && d.batch >= threads && item_mnk <= kSmallItemMnk) {
#pragma omp parallel for num_threads(threads) schedule(dynamic, 1)
        for (int64_t i = 0; i < d.batch; ++i) gemm_one(item(i), ks, 1);
    } else {
        for (int64_t i = 0; i < d.batch; ++i) gemm_one(item(i), ks, threads);
    }
}

}  // namespace gemm_detail

void gemm_fast_cpu(float* c, const float* a, const float* b, GemmDims d, float alpha, float beta) {
    gemm_detail::gemm_with_kernels(gemm_detail::kernel_set(), c, a, b, d, alpha, beta);
}

}  // namespace obl::kernels
