#pragma once
// The per-layer solve under tensor parallelism (DESIGN.md section 3).
//
// Each edited layer's d_in x d_in operators (statistics, AlphaEdit's projector and
// key cache) live on ONE rank of the tp group: layer l -> tp rank l mod tp, so no
// rank holds the operators of more than ceil(layers / tp) layers. Only that rank
// calls set_statistics()/record_keys() for the layer. For an edit:
//   1. the owner solves X = solve_keys(K) (d_in x n);
//   2. X is broadcast over the weight's tp group (d_in x n: nothing d_out x d_in
//      is ever communicated);
//   3. every rank forms its own shard of dW = R X^T: for a row-parallel weight
//      (columns split) its rows of X, for a column-parallel one its rows of R.
// Keys and residual are full (replicated) on every rank of the group.
// Collective over weight.reduce_group(): every rank calls it for every layer, in
// the same order. A failed solve on the owner is reported on every rank (same
// message, naming the layer and owner) instead of leaving the others waiting.
#include <ATen/core/Tensor.h>

#include <cstdint>
#include <string>

#include "lib/edit/editors/editor.h"
#include "lib/edit/weight_update.h"
#include "sharding/comm/communicator.h"
#include "sharding/sharded_tensor.h"

namespace revive::edit {

// The tp rank owning layer `layer_index`'s operators.
int operator_owner(int64_t layer_index, int tp_size);

// This rank's shard of the layer's factored update, laid out like `weight`.
WeightUpdate distributed_update(FactoredEditor& editor, int64_t layer_index, const LayerEdit& edit,
                                const sharding::ShardedTensor& weight);

// record_keys() on the owner only (collective only in that every rank calls it).
void distributed_record_keys(Editor& editor, int64_t layer_index, const std::string& layer, const at::Tensor& keys,
                             sharding::Communicator& tp);

}  // namespace revive::edit
