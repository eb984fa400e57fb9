#include "sharding/tp/vocab_parallel_embedding.h"

#include <ATen/ATen.h>

#include "sharding/errors.h"
#include "sharding/tp/mappings.h"

namespace revive::sharding {

VocabParallelEmbedding::VocabParallelEmbedding(ShardedTensor weight) : weight_(std::move(weight)) {
  const ShardSpec& w = weight_.spec();
  if (w.layout != Layout::kVocab || w.global_shape.size() != 2) {
    throw Error(std::string("VocabParallelEmbedding: weight must be a 2-D vocab shard, got ") +
                to_string(w.layout) + " of rank " + std::to_string(w.global_shape.size()));
  }
}

at::Tensor VocabParallelEmbedding::forward(const at::Tensor& ids) const {
  const ShardSpec& w = weight_.spec();
  if (ids.numel() > 0) {
    const int64_t lo = ids.min().item<int64_t>(), hi = ids.max().item<int64_t>();
    if (lo < 0 || hi >= w.global_shape[0]) {
      throw Error("VocabParallelEmbedding: token id " + std::to_string(lo < 0 ? lo : hi) +
                  " outside the vocabulary [0, " + std::to_string(w.global_shape[0]) + ")");
    }
  }
  const at::Tensor outside = (ids < w.offset).logical_or(ids >= w.offset + w.length);
  const at::Tensor local_ids = (ids - w.offset).masked_fill(outside, 0);
  at::Tensor partial = at::embedding(weight_.local(), local_ids);
  if (w.tp_size > 1) partial = partial.masked_fill(outside.unsqueeze(-1), 0);
  return reduce_from_tp_region(partial, weight_.reduce_group());
}

}  // namespace revive::sharding
