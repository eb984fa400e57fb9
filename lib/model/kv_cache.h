#pragma once
// KvCache: keys and values of every layer from earlier forward calls, for
// incremental decoding. A cache is a row of "slots"; each forward appends T slots
// per row. Slots that held padding stay in the cache but are marked invalid, so
// rows of a batch may have different lengths (right-padded prompts, finished
// generations). Under tensor parallelism each rank caches its own kv heads.
#include <ATen/core/Tensor.h>

#include <utility>
#include <vector>

namespace revive::model {

class KvCache {
 public:
  KvCache() = default;

  bool empty() const { return !valid_.defined(); }
  // Slots held per row.
  int64_t length() const { return empty() ? 0 : valid_.size(1); }
  // [B, length] bool: which slots hold real tokens.
  const at::Tensor& key_valid() const { return valid_; }
  // [B] int64: position id of the next real token of each row.
  const at::Tensor& next_position() const { return next_pos_; }

  // Called by attention: appends the new keys/values [B, H_kv, T, d] of `layer`
  // and returns all of them (old slots first).
  std::pair<at::Tensor, at::Tensor> append(int64_t layer, const at::Tensor& k, const at::Tensor& v);

  // Called by the model once per forward, after every layer appended: the new
  // slots' validity [B, length] and next positions [B].
  void commit(at::Tensor key_valid, at::Tensor next_position);

  void clear();

 private:
  std::vector<at::Tensor> k_, v_;
  at::Tensor valid_, next_pos_;
};

}  // namespace revive::model
