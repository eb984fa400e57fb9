#include "sharding/tp/row_parallel_linear.h"

#include <ATen/ATen.h>

#include "sharding/errors.h"
#include "sharding/tp/mappings.h"

namespace revive::sharding {

RowParallelLinear::RowParallelLinear(ShardedTensor weight, at::Tensor bias, bool input_is_parallel)
    : weight_(std::move(weight)), bias_(std::move(bias)), input_is_parallel_(input_is_parallel) {
  const ShardSpec& w = weight_.spec();
  if (w.layout != Layout::kRow || w.global_shape.size() != 2) {
    throw Error(std::string("RowParallelLinear: weight must be a 2-D row shard, got ") + to_string(w.layout) +
                " of rank " + std::to_string(w.global_shape.size()));
  }
  if (bias_.defined() && (bias_.dim() != 1 || bias_.size(0) != w.global_shape[0])) {
    throw Error("RowParallelLinear: bias of shape " + c10::str(bias_.sizes()) + " for " +
                std::to_string(w.global_shape[0]) + " outputs");
  }
}

at::Tensor RowParallelLinear::forward(const at::Tensor& x) const {
  Communicator& group = weight_.reduce_group();
  const at::Tensor x_local = input_is_parallel_ ? x : scatter_to_tp_region(x, group);
  REVIVE_CHECK(x_local.size(-1) == weight_.local().size(1),
               "RowParallelLinear: input's last dimension is not this rank's slice of the weight's columns");
  const at::Tensor y = reduce_from_tp_region(at::linear(x_local, weight_.local()), group);
  return bias_.defined() ? y + bias_ : y;
}

}  // namespace revive::sharding
