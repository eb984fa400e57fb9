#include "sharding/sharded_tensor.h"

#include <ATen/ATen.h>

#include "sharding/errors.h"

namespace revive::sharding {

const char* to_string(Layout l) {
  switch (l) {
    case Layout::kReplicated: return "replicated";
    case Layout::kColumn: return "column";
    case Layout::kRow: return "row";
    case Layout::kVocab: return "vocab";
  }
  return "?";
}

ShardSpec ShardSpec::make(Layout layout, std::vector<int64_t> global_shape, int tp_rank, int tp_size) {
  ShardSpec s;
  s.layout = layout;
  s.global_shape = std::move(global_shape);
  s.tp_rank = tp_rank;
  s.tp_size = tp_size;
  switch (layout) {
    case Layout::kReplicated: s.dim = -1; break;
    case Layout::kColumn: case Layout::kVocab: s.dim = 0; break;
    case Layout::kRow: s.dim = 1; break;
  }
  if (s.dim >= static_cast<int64_t>(s.global_shape.size())) {
    // A 1-D tensor (a bias) of a row-parallel layer is not split.
    if (layout == Layout::kRow && s.global_shape.size() == 1) {
      s.layout = Layout::kReplicated;
      s.dim = -1;
    } else {
      throw Error(std::string("ShardSpec: layout ") + to_string(layout) + " needs a tensor with more dimensions");
    }
  }
  if (s.dim >= 0) {
    const Range r = shard_range(s.global_shape[s.dim], tp_rank, tp_size);
    s.offset = r.begin;
    s.length = r.size;
  }
  return s;
}

std::vector<int64_t> ShardSpec::local_shape() const {
  std::vector<int64_t> shape = global_shape;
  if (dim >= 0) shape[dim] = length;
  return shape;
}

ShardedTensor::ShardedTensor(at::Tensor local, ShardSpec spec, Communicator& group)
    : local_(std::move(local)), spec_(std::move(spec)), group_(&group) {
  if (group.size() != spec_.tp_size || group.rank() != spec_.tp_rank) {
    throw Error("ShardedTensor: spec is for rank " + std::to_string(spec_.tp_rank) + " of " +
                std::to_string(spec_.tp_size) + " but the group is rank " + std::to_string(group.rank()) +
                " of " + std::to_string(group.size()));
  }
  if (local_.sizes().vec() != spec_.local_shape()) {
    throw Error("ShardedTensor: local shape " + c10::str(local_.sizes()) + " does not match the " +
                to_string(spec_.layout) + " shard " + c10::str(at::IntArrayRef(spec_.local_shape())));
  }
}

ShardedTensor ShardedTensor::from_full(const at::Tensor& full, Layout layout, Communicator& group) {
  ShardSpec spec = ShardSpec::make(layout, full.sizes().vec(), group.rank(), group.size());
  at::Tensor local = spec.dim < 0 ? full : full.narrow(spec.dim, spec.offset, spec.length);
  return ShardedTensor(local.contiguous(), std::move(spec), group);
}

at::Tensor ShardedTensor::full() const {
  if (spec_.dim < 0 || group_->size() == 1) return local_;
  AllGatherOptions o;
  o.dim = spec_.dim;
  return group_->all_gather(local_.contiguous(), o);
}

}  // namespace revive::sharding
