#pragma once
// Tensor-parallel collectives as autograd functions (Megatron's f/g). They come in
// adjoint pairs - each one's backward is the other's forward:
//   copy_to_tp_region     fwd identity            bwd all-reduce(sum)
//   reduce_from_tp_region fwd all-reduce(sum)     bwd identity
//   scatter_to_tp_region  fwd keep own last-dim slice   bwd all-gather last dim
//   gather_from_tp_region fwd all-gather last dim       bwd keep own slice
// Slices follow shard_range(): uneven last dimensions are allowed. The
// communicator must outlive every autograd graph built with it.
#include <ATen/core/Tensor.h>

#include "sharding/comm/communicator.h"

namespace revive::sharding {

at::Tensor copy_to_tp_region(const at::Tensor& x, Communicator& tp);
at::Tensor reduce_from_tp_region(const at::Tensor& x, Communicator& tp);
at::Tensor scatter_to_tp_region(const at::Tensor& x, Communicator& tp);
at::Tensor gather_from_tp_region(const at::Tensor& x, Communicator& tp);

}  // namespace revive::sharding
