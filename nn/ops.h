// Every differentiable op, by family. Each op: check shapes/dtypes/devices -> allocate the output
// on the input's device -> dispatch (switch on device; fast CPU path unless ReferenceCpuGuard) ->
// record the backward node (DESIGN.md §D). Broadcasting is always explicit (broadcast_to).
#pragma once

#include "nn/autograd.h"
#include "nn/ops/conv.h"
#include "nn/ops/elementwise.h"
#include "nn/ops/matmul.h"
#include "nn/ops/random.h"
#include "nn/ops/reduce.h"
#include "nn/ops/shape_ops.h"
#include "nn/ops/softmax.h"
#include "nn/tensor.h"
