#pragma once
// VocabParallelEmbedding: Y = onehot(ids) E, with E the embedding table
// [vocab, hidden]. Vocab-parallel (Megatron): E's rows are split over the tp
// group, E = [E_1; ...; E_p]; rank i looks up only the ids inside its row range
// (others give zero rows), and reduce_from_tp_region sums the partial lookups, so
// Y is replicated. Backward: each rank's E_i receives exactly its rows' gradient.
#include <ATen/core/Tensor.h>

#include "sharding/sharded_tensor.h"

namespace revive::sharding {

class VocabParallelEmbedding {
 public:
  VocabParallelEmbedding() = default;
  // weight: layout kVocab, global [vocab, hidden].
  explicit VocabParallelEmbedding(ShardedTensor weight);

  // ids: integer tensor of any shape with values in [0, vocab) -> [..., hidden].
  at::Tensor forward(const at::Tensor& ids) const;

  const ShardedTensor& weight() const { return weight_; }
  ShardedTensor& weight() { return weight_; }
  int64_t vocab_size() const { return weight_.spec().global_shape[0]; }
  int64_t hidden_size() const { return weight_.spec().global_shape[1]; }

 private:
  ShardedTensor weight_;
};

}  // namespace revive::sharding
