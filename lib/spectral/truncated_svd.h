#pragma once
// truncated_svd: the top-k singular triplets of a weight matrix, whole or
// sharded over a tensor-parallel group, by the engine the cost model picks
// (engine_cost.h) or the one SvdOptions::engine forces.
//
// Distributed contract: collective over the matrix's reduce_group(); every rank
// ends with the same singular values and replicated factor (bitwise) and its
// own rows of the split factor:
//   kColumn (W's rows split):    U split by rows like W, V replicated;
//   kRow    (W's columns split): U replicated, V split by rows like W's columns.
// Results equal the single-process ones up to reduction order, for any group size
// and uneven shards, because Omega depends only on (seed, global index).
#include <ATen/core/Tensor.h>

#include "lib/spectral/sharded_matrix.h"
#include "lib/spectral/svd_options.h"
#include "sharding/sharded_tensor.h"

namespace revive::spectral {

SvdResult truncated_svd(const at::Tensor& a, const SvdOptions& opts);

// As held by this rank: u/v are this rank's rows of a split factor.
SvdResult truncated_svd(const ShardedMatrix& a, const SvdOptions& opts);

struct ShardedSvdResult {
  sharding::ShardedTensor u;  // m x k; split along dim 0 when W's rows are split
  at::Tensor s;               // k, f64, replicated
  sharding::ShardedTensor v;  // n x k; split along dim 0 when W's columns are split
  int64_t k = 0;
  double frobenius_sq = 0.0;
  SvdEngine engine = SvdEngine::kAuto;
  GramSolver gram_solver = GramSolver::kAuto;
};
ShardedSvdResult truncated_svd(const sharding::ShardedTensor& a, const SvdOptions& opts);

// The spec, over `group`, of an (m or n) x k factor distributed like one side of
// `a`: split along dim 0 with the same offsets when that side is split.
sharding::ShardSpec factor_spec(const ShardedMatrix& a, bool row_side, int64_t k,
                                const sharding::Communicator& group);

}  // namespace revive::spectral
