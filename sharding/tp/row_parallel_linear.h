#pragma once
// RowParallelLinear: Y = X A^T + b, with A the HF weight [out, in].
// Row-parallel (Megatron): A's columns (input features) are split over the tp
// group, A = [A_1, ..., A_p], and X's last dimension the same way,
// X = [X_1, ..., X_p]; rank i computes the partial product X_i A_i^T and
// reduce_from_tp_region sums them (all-reduce forward, identity backward), so
// Y = sum_i X_i A_i^T + b is replicated. b (not split) is added once, after the
// sum. When the input arrives replicated (input_is_parallel = false) it is first
// cut to this rank's slice by scatter_to_tp_region.
#include <ATen/core/Tensor.h>

#include "sharding/sharded_tensor.h"

namespace revive::sharding {

class RowParallelLinear {
 public:
  RowParallelLinear() = default;
  // weight: layout kRow, global [out, in]. bias: undefined or replicated [out].
  RowParallelLinear(ShardedTensor weight, at::Tensor bias, bool input_is_parallel = true);

  // x: [..., in_local] (or [..., in] when !input_is_parallel) -> [..., out] replicated.
  at::Tensor forward(const at::Tensor& x) const;

  const ShardedTensor& weight() const { return weight_; }
  ShardedTensor& weight() { return weight_; }
  const at::Tensor& bias() const { return bias_; }
  int64_t in_features() const { return weight_.spec().global_shape[1]; }
  int64_t in_features_local() const { return weight_.spec().length; }
  int64_t out_features() const { return weight_.spec().global_shape[0]; }
  Communicator& tp() const { return weight_.reduce_group(); }

 private:
  ShardedTensor weight_;
  at::Tensor bias_;
  bool input_is_parallel_ = true;
};

}  // namespace revive::sharding
