// Op-table rows for the fused synthetic-embedding sampler (kernels/synth_sample.h).
//   Non-differentiable. inputs[0] is the head's weight W (K, D), inputs[1] its bias b (K); for the
//   matched rows inputs[2], inputs[3] are the per-dimension loc and scale (D). fn runs
//   synth_sample_block (unlearn/synthetic.h) for a fixed seed and candidate range and returns
//   either z (tolerance: 1 float ulp of the normals, 1e-6 at |z| < 8; scaled by the row's scale)
//   or the logits (GEMM tolerance 1e-4 / 1e-4: the fast path sums in float, the reference in
//   double). Labels are not compared here (a near-tie may flip them legitimately); the
//   label-with-margin rule of DESIGN.md §G is tested in tests/unlearn/test_synthetic.cpp.
#include "tests/kernels/op_case.h"
#include "unlearn/synthetic.h"

namespace obl::test {

namespace {

enum class Out { Z, Logits };

OpCase synth_row(const std::string& name, int64_t d, int64_t k, int64_t first, int64_t count,
                 SynthDistribution dist, Out out) {
    OpCase c;
    c.name = name;
    c.kernel = "synth_sample";
    c.inputs = {{k, d}, {k}};
    if (dist == SynthDistribution::Matched) {
        c.inputs.push_back({d});
        c.inputs.push_back({d});
    }
    c.differentiable = false;
    c.has_fast_cpu = true;
    if (out == Out::Z) {
        c.atol = dist == SynthDistribution::Matched ? 2e-6 : 1e-6;  // |scale| <= 1, |loc| <= 1
        c.rtol = 0;
    } else {
        c.atol = 1e-4;
        c.rtol = 1e-4;
    }
    c.fn = [=](const std::vector<Tensor>& in) {
        SamplerConfig cfg;  // Matched = the Gaussian's variates with per-dimension loc / scale
        if (dist != SynthDistribution::Matched) cfg.distribution = dist;
        DrawSpec spec = draw_spec(cfg, {d}, in[0].device());
        if (dist == SynthDistribution::Matched) {
            spec.loc = in[2];
            spec.scale = in[3];
        }
        const SynthBlock b = synth_sample_block(in[0], in[1], spec, first, count, 2024, true);
        return out == Out::Z ? b.z : b.logits;
    };
    return c;
}

}  // namespace

std::vector<OpCase> synth_cases() {
    using D = SynthDistribution;
    return {
        // ResNet-20's pre_logits head shape.
        synth_row("synth_sample_logits_D64_K10", 64, 10, 0, 512, D::Gaussian, Out::Logits),
        synth_row("synth_sample_z_D64_K10", 64, 10, 0, 512, D::Gaussian, Out::Z),
        // Awkward: D and B not multiples of 4/16, a start that splits a Philox block, K = 1, B = 1.
        synth_row("synth_sample_logits_D37_K3_first5", 37, 3, 5, 333, D::Gaussian, Out::Logits),
        synth_row("synth_sample_z_D37_K1_B1", 37, 1, 11, 1, D::Gaussian, Out::Z),
        synth_row("synth_sample_logits_D512_K100", 512, 100, 1000, 96, D::Gaussian, Out::Logits),
        synth_row("synth_sample_z_uniform_D30_K7", 30, 7, 3, 200, D::Uniform, Out::Z),
        synth_row("synth_sample_logits_laplace_D30_K7", 30, 7, 3, 200, D::Laplace, Out::Logits),
        synth_row("synth_sample_z_matched_D21_K4", 21, 4, 2, 150, D::Matched, Out::Z),
        synth_row("synth_sample_logits_matched_D21_K4", 21, 4, 2, 150, D::Matched, Out::Logits),
    };
}

}  // namespace obl::test
