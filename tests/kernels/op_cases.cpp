// The op table: every family's rows, listed by hand (no self-registration).
#include "tests/kernels/op_case.h"

namespace obl::test {

const std::vector<OpCase>& all_op_cases() {
    static const std::vector<OpCase> rows = [] {
        std::vector<OpCase> all;
        for (auto family : {elementwise_cases, reduce_cases, softmax_cases, gemm_cases, conv_cases,
                            shape_cases, random_cases, synth_cases, head_step_cases}) {
            for (auto& row : family()) all.push_back(std::move(row));
        }
        return all;
    }();
    return rows;
}

}  // namespace obl::test
