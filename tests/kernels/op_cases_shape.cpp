// Op-table rows for the data-movement family (kernels/concat.h, slice.h, index.h, pad.h,
// permute.h, interpolate.h; dropout's rows belong to its own family). Every row name starts with
// "shape_" so --gtest_filter='*shape_*' selects the family. Each op has a normal shape and an
// awkward one (N = 1, sizes not multiples of 16/32, 6-D permutes, index tensors with repeated
// entries and shapes smaller than the data). All these ops are linear in their float inputs, so
// the default f64 gradient-check tolerances hold with a wide margin. Index tensors are created
// inside fn on inputs[0].device(), as the harness requires.
#include <cstdint>
#include <vector>

#include "tests/kernels/op_case.h"

namespace obl::test {

namespace {

using Fn = std::function<Tensor(const std::vector<Tensor>&)>;

OpCase row(const std::string& name, const std::string& kernel, std::vector<Shape> inputs, Fn fn) {
    OpCase c;
    c.name = "shape_" + name;
    c.kernel = kernel;
    c.inputs = std::move(inputs);
    c.fn = std::move(fn);
    return c;
}

// A deterministic i64 index tensor of `shape` with values in [0, size): (i * mul + add) % size,
// so most rows repeat indices (scatters then sum several contributions into one element).
Tensor make_index(const Shape& shape, int64_t size, int64_t mul, int64_t add, Device device) {
    std::vector<int64_t> v(static_cast<size_t>(shape.numel()));
    for (size_t i = 0; i < v.size(); ++i) v[i] = (static_cast<int64_t>(i) * mul + add) % size;
    return Tensor::from_vector(v, shape, device);
}

}  // namespace

std::vector<OpCase> shape_cases() {
    std::vector<OpCase> rows;

    // ---- concat / stack (kernels/concat.h) ----
    rows.push_back(
        row("concat_dim1", "concat", {{2, 3, 4}, {2, 5, 4}}, [](const std::vector<Tensor>& in) {
            return concat({in[0], in[1]}, 1);
        }));
    rows.push_back(row("concat_3way_last_n1", "concat", {{1, 7, 3}, {1, 7, 1}, {1, 7, 5}},
                       [](const std::vector<Tensor>& in) { return concat(in, -1); }));
    rows.push_back(row("concat_dim0_large", "concat", {{33, 257}, {100, 257}},
                       [](const std::vector<Tensor>& in) { return concat(in, 0); }));
    rows.push_back(row("stack_dim1", "concat", {{3, 5}, {3, 5}},
                       [](const std::vector<Tensor>& in) { return stack(in, 1); }));
    rows.push_back(row("stack_last_3way", "concat", {{1, 7}, {1, 7}, {1, 7}},
                       [](const std::vector<Tensor>& in) { return stack(in, -1); }));

    // ---- slice (kernels/slice.h) ----
    rows.push_back(row("slice_step2", "slice", {{4, 6, 5}},
                       [](const std::vector<Tensor>& in) { return slice(in[0], 1, 1, 6, 2); }));
    rows.push_back(row("slice_step5_n1", "slice", {{1, 37}},
                       [](const std::vector<Tensor>& in) { return slice(in[0], -1, 3, 37, 5); }));
    rows.push_back(row("slice_dim0_large", "slice", {{301, 130}},
                       [](const std::vector<Tensor>& in) { return slice(in[0], 0, 7, 300); }));

    // ---- index_select / gather / scatter_add (kernels/index.h) ----
    rows.push_back(
        row("index_select_dim1", "index", {{5, 4, 3}}, [](const std::vector<Tensor>& in) {
            Tensor idx = Tensor::from_vector<int64_t>({3, 0, 3, 1}, {4}, in[0].device());
            return index_select(in[0], 1, idx);
        }));
    rows.push_back(
        row("index_select_dim0_n1", "index", {{7, 1, 5}}, [](const std::vector<Tensor>& in) {
            Tensor idx = Tensor::from_vector<int64_t>({6, 6, 0, 2, 6}, {5}, in[0].device());
            return index_select(in[0], 0, idx);
        }));
    rows.push_back(
        row("index_select_large", "index", {{300, 129}}, [](const std::vector<Tensor>& in) {
            return index_select(in[0], 0, make_index({517}, 300, 37, 11, in[0].device()));
        }));
    rows.push_back(row("gather_dim1", "index", {{3, 5}}, [](const std::vector<Tensor>& in) {
        return gather(in[0], 1, make_index({3, 4}, 5, 3, 1, in[0].device()));
    }));
    rows.push_back(
        row("gather_small_index", "index", {{4, 6, 3}}, [](const std::vector<Tensor>& in) {
            // index smaller than x in the non-gather dims (PyTorch allows it)
            return gather(in[0], 1, make_index({3, 7, 2}, 6, 5, 2, in[0].device()));
        }));
    rows.push_back(row("gather_dim0_n1", "index", {{9, 1, 13}}, [](const std::vector<Tensor>& in) {
        return gather(in[0], 0, make_index({5, 1, 13}, 9, 7, 4, in[0].device()));
    }));
    rows.push_back(
        row("scatter_add_dim0", "index", {{3, 5}, {2, 5}}, [](const std::vector<Tensor>& in) {
            return scatter_add(in[0], 0, make_index({2, 5}, 3, 2, 1, in[0].device()), in[1]);
        }));
    rows.push_back(
        row("scatter_add_src_larger", "index", {{4, 3, 6}, {3, 3, 7}},
            [](const std::vector<Tensor>& in) {
                // src larger than index: only its leading box is scattered
                return scatter_add(in[0], 2, make_index({2, 3, 5}, 6, 4, 3, in[0].device()), in[1]);
            }));
    rows.push_back(row(
        "scatter_add_dim1_large", "index", {{64, 50}, {64, 600}},
        [](const std::vector<Tensor>& in) {
            return scatter_add(in[0], 1, make_index({64, 600}, 50, 13, 5, in[0].device()), in[1]);
        }));

    // ---- pad (kernels/pad.h) ----
    rows.push_back(row("pad_last2", "pad", {{2, 3, 4}}, [](const std::vector<Tensor>& in) {
        return pad(in[0], {1, 2, 0, 3}, 0.5);
    }));
    rows.push_back(row("pad_3dims_n1", "pad", {{1, 1, 5, 7}}, [](const std::vector<Tensor>& in) {
        return pad(in[0], {2, 0, 1, 1, 0, 2});
    }));
    rows.push_back(
        row("pad_image_large", "pad", {{2, 3, 33, 31}}, [](const std::vector<Tensor>& in) {
            return pad(in[0], {3, 4, 5, 6}, -1.0);
        }));

    // ---- permute / transpose (kernels/permute.h) ----
    rows.push_back(row("permute_3d", "permute", {{2, 3, 4}}, [](const std::vector<Tensor>& in) {
        return permute(in[0], {2, 0, 1});
    }));
    rows.push_back(row("permute_6d_window", "permute", {{2, 3, 2, 4, 1, 3}},
                       [](const std::vector<Tensor>& in) {
                           // Swin's window partition: (B, H/w, w, W/w, w, C) -> (B, H/w, W/w, w, w,
                           // C)
                           return permute(in[0], {0, 1, 3, 2, 4, 5});
                       }));
    rows.push_back(row("permute_6d_reverse", "permute", {{3, 1, 2, 5, 2, 3}},
                       [](const std::vector<Tensor>& in) {
                           return permute(in[0], {5, 3, 1, 0, 2, -2});
                       }));
    rows.push_back(row("transpose_02", "permute", {{3, 4, 5}},
                       [](const std::vector<Tensor>& in) { return transpose(in[0], 0, 2); }));
    rows.push_back(row("transpose_last2_large", "permute", {{1, 130, 257}},
                       [](const std::vector<Tensor>& in) { return transpose(in[0], -1, -2); }));

    // ---- interpolate (kernels/interpolate.h) ----
    rows.push_back(
        row("interp_bilinear_up", "interpolate", {{2, 3, 4, 5}}, [](const std::vector<Tensor>& in) {
            return interpolate(in[0], 7, 9, InterpMode::Bilinear);
        }));
    rows.push_back(row("interp_bilinear_align_mixed", "interpolate", {{1, 2, 5, 3}},
                       [](const std::vector<Tensor>& in) {
                           return interpolate(in[0], 4, 8, InterpMode::Bilinear, true);
                       }));
    rows.push_back(
        row("interp_bicubic_up", "interpolate", {{1, 2, 4, 4}}, [](const std::vector<Tensor>& in) {
            return interpolate(in[0], 9, 7, InterpMode::Bicubic);
        }));
    rows.push_back(row("interp_bicubic_align_mixed", "interpolate", {{2, 1, 6, 5}},
                       [](const std::vector<Tensor>& in) {
                           return interpolate(in[0], 3, 11, InterpMode::Bicubic, true);
                       }));
    rows.push_back(row("interp_bicubic_down_n1", "interpolate", {{1, 1, 13, 17}},
                       [](const std::vector<Tensor>& in) {
                           return interpolate(in[0], 5, 1, InterpMode::Bicubic);
                       }));
    rows.push_back(row("interp_bicubic_cifar_vit", "interpolate", {{2, 3, 32, 32}},
                       [](const std::vector<Tensor>& in) {
                           return interpolate(in[0], 224, 224, InterpMode::Bicubic);
                       }));
    return rows;
}

}  // namespace obl::test
