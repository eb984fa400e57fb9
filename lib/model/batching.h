#pragma once
// Right-padded batches of token sequences of different lengths.
#include <ATen/core/Tensor.h>

#include <vector>

namespace revive::model {

struct PaddedBatch {
  at::Tensor ids;      // [B, T] int64, padded with pad_id
  at::Tensor mask;     // [B, T] int64, 1 on real tokens
  at::Tensor lengths;  // [B] int64
};

PaddedBatch pad_right(const std::vector<std::vector<int64_t>>& seqs, int64_t pad_id);

}  // namespace revive::model
