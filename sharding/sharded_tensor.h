#pragma once
// ShardedTensor: a rank's local piece of a tensor-parallel matrix together with
// how it is distributed. Distribution lives in the type (STYLE.md 7), so an
// algorithm checks the layout once at entry and asks the data for the group its
// partial products reduce over (reduce_group()).
//
// Layouts, in terms of an HF weight W of shape [out, in] (Y = X W^T):
//  kReplicated  every rank holds all of W.
//  kColumn      column-parallel (Megatron): W's rows (out) are split; dim 0.
//  kRow         row-parallel: W's columns (in) are split; dim 1.
//  kVocab       embedding / LM head split over the vocabulary rows; dim 0.
// Splits follow shard_range() (balanced, first ranks get the remainder), so
// uneven sizes are allowed.
#include <ATen/core/Tensor.h>

#include <vector>

#include "sharding/comm/communicator.h"

namespace revive::sharding {

enum class Layout { kReplicated, kColumn, kRow, kVocab };
const char* to_string(Layout l);

struct ShardSpec {
  Layout layout = Layout::kReplicated;
  int64_t dim = -1;                   // split dimension of the global tensor (-1: none)
  std::vector<int64_t> global_shape;  // shape of the full tensor
  int64_t offset = 0;                 // first global index along dim held here
  int64_t length = 0;                 // number of indices along dim held here
  int tp_rank = 0;
  int tp_size = 1;

  // The spec of rank `tp_rank` of `tp_size` for a tensor of `global_shape`.
  static ShardSpec make(Layout layout, std::vector<int64_t> global_shape, int tp_rank, int tp_size);
  // Shape of the local piece.
  std::vector<int64_t> local_shape() const;
};

class ShardedTensor {
 public:
  ShardedTensor() = default;
  // Validates local's shape against spec and that group.size() == spec.tp_size.
  ShardedTensor(at::Tensor local, ShardSpec spec, Communicator& group);

  // Cuts this rank's piece out of a full tensor (which every rank holds).
  static ShardedTensor from_full(const at::Tensor& full, Layout layout, Communicator& group);

  const at::Tensor& local() const { return local_; }
  at::Tensor& local() { return local_; }
  const ShardSpec& spec() const { return spec_; }
  Layout layout() const { return spec_.layout; }
  // The group the shards are spread over; partial products reduce over it.
  Communicator& reduce_group() const { return *group_; }

  // All shards gathered into the full tensor (collective).
  at::Tensor full() const;

 private:
  at::Tensor local_;
  ShardSpec spec_;
  Communicator* group_ = nullptr;
};

}  // namespace revive::sharding
