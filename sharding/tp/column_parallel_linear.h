#pragma once
// ColumnParallelLinear: Y = X A^T + b, with A the HF weight [out, in].
// Column-parallel (Megatron): A's rows (output features) are split over the tp
// group, A = [A_1; ...; A_p], b = [b_1; ...; b_p]; rank i computes
// Y_i = X A_i^T + b_i, its own slice of Y's last dimension. X is replicated on
// entry: copy_to_tp_region (identity forward, all-reduce of dX backward). With
// gather_output the slices are joined by gather_from_tp_region into the full Y;
// otherwise Y stays split for a following RowParallelLinear or per-head math.
//
// A kVocab weight (an LM head, split over vocabulary rows) is accepted too: it is
// split along the same dimension.
#include <ATen/core/Tensor.h>

#include "sharding/sharded_tensor.h"

namespace revive::sharding {

class ColumnParallelLinear {
 public:
  ColumnParallelLinear() = default;
  // weight: layout kColumn or kVocab, global [out, in]. bias: undefined (no bias)
  // or layout kColumn, global [out], split like the weight.
  ColumnParallelLinear(ShardedTensor weight, ShardedTensor bias, bool gather_output);

  // x: [..., in] (replicated) -> [..., out_local], or [..., out] with gather_output.
  at::Tensor forward(const at::Tensor& x) const;

  const ShardedTensor& weight() const { return weight_; }
  ShardedTensor& weight() { return weight_; }
  bool has_bias() const { return bias_.local().defined(); }
  const ShardedTensor& bias() const { return bias_; }
  int64_t in_features() const { return weight_.spec().global_shape[1]; }
  int64_t out_features() const { return weight_.spec().global_shape[0]; }
  int64_t out_features_local() const { return weight_.spec().length; }
  Communicator& tp() const { return weight_.reduce_group(); }

 private:
  ShardedTensor weight_;
  ShardedTensor bias_;
  bool gather_output_ = false;
};

}  // namespace revive::sharding
