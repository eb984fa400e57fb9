#pragma once
// WeightUpdate: one layer's proposed change dW of a weight W (HF layout
// [d_out, d_in]), kept factored as dW = R X^T (R: d_out x n, X: d_in x n) where
// the editor is low-rank (DESIGN.md section 3), or dense where it is not (RECT's
// mask, PRUNE's restraint).
//
// Contract: nothing touches a weight before check_finite() has passed; apply_to()
// runs it first, so an update with NaN/Inf leaves the weight exactly as it was and
// throws revive::Error naming the layer.
#include <ATen/core/Tensor.h>

#include <cstdint>
#include <string>

#include "sharding/sharded_tensor.h"

namespace revive::edit {

// Entries of t that are NaN or Inf.
int64_t count_nonfinite(const at::Tensor& t);

class WeightUpdate {
 public:
  WeightUpdate() = default;

  // dW = r x^T; r: d_out x n, x: d_in x n (same dtype, n >= 1).
  static WeightUpdate factored(std::string layer, at::Tensor r, at::Tensor x);
  // dW given in full, d_out x d_in.
  static WeightUpdate dense(std::string layer, at::Tensor dw);

  bool defined() const { return r_.defined() || dw_.defined(); }
  bool is_factored() const { return r_.defined(); }
  const std::string& layer() const { return layer_; }
  const at::Tensor& r() const { return r_; }
  const at::Tensor& x() const { return x_; }
  const at::Tensor& dense_delta() const { return dw_; }
  int64_t rows() const;  // d_out
  int64_t cols() const;  // d_in
  int64_t rank_bound() const { return is_factored() ? r_.size(1) : -1; }

  // Throws revive::Error naming the layer and the offending factor when any entry
  // is NaN or Inf.
  void check_finite() const;

  // W += dW in place, in W's dtype. check_finite() runs first. Factored updates
  // are added with one GEMM into W (blocks of rows, computed in f32, for half
  // types), so no d_out x d_in temporary exists for f32/f64 weights.
  void apply_to(at::Tensor& weight) const;

  // dW as a dense d_out x d_in tensor (tests, RECT, PRUNE, small layers).
  at::Tensor materialize() const;

  // This rank's piece of dW for a weight sharded by `spec` (the weight's own
  // ShardSpec): row-parallel (columns split) keeps the rows of X that match its
  // columns; column-parallel / vocab keeps its rows of R; replicated keeps all.
  // Dense updates are narrowed the same way. Pure slicing: no communication.
  WeightUpdate local_shard(const sharding::ShardSpec& spec) const;

 private:
  std::string layer_;
  at::Tensor r_, x_;  // factored
  at::Tensor dw_;     // dense
};

}  // namespace revive::edit
