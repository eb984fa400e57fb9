#include "sharding/tp/column_parallel_linear.h"

#include <ATen/ATen.h>

#include "sharding/errors.h"
#include "sharding/tp/mappings.h"

namespace revive::sharding {

ColumnParallelLinear::ColumnParallelLinear(ShardedTensor weight, ShardedTensor bias, bool gather_output)
    : weight_(std::move(weight)), bias_(std::move(bias)), gather_output_(gather_output) {
  const ShardSpec& w = weight_.spec();
  if ((w.layout != Layout::kColumn && w.layout != Layout::kVocab) || w.global_shape.size() != 2) {
    throw Error(std::string("ColumnParallelLinear: weight must be a 2-D column or vocab shard, got ") +
                to_string(w.layout) + " of rank " + std::to_string(w.global_shape.size()));
  }
  if (bias_.local().defined()) {
    const ShardSpec& b = bias_.spec();
    if (b.global_shape.size() != 1 || b.global_shape[0] != w.global_shape[0] || b.offset != w.offset ||
        b.length != w.length) {
      throw Error("ColumnParallelLinear: bias shard [" + std::to_string(b.offset) + ", +" +
                  std::to_string(b.length) + ") does not match the weight's output rows [" +
                  std::to_string(w.offset) + ", +" + std::to_string(w.length) + ")");
    }
  }
}

at::Tensor ColumnParallelLinear::forward(const at::Tensor& x) const {
  Communicator& group = weight_.reduce_group();
  const at::Tensor x_par = copy_to_tp_region(x, group);
  const at::Tensor y_local =
      has_bias() ? at::linear(x_par, weight_.local(), bias_.local()) : at::linear(x_par, weight_.local());
  return gather_output_ ? gather_from_tp_region(y_local, group) : y_local;
}

}  // namespace revive::sharding
