#include "lib/model/weight_source.h"

#include <ATen/ATen.h>

#include "sharding/errors.h"
#include "sharding/layout/param_layout.h"
#include "sharding/layout/shard_loader.h"

namespace revive::model {

using sharding::Communicator;
using sharding::Layout;
using sharding::ShardedTensor;

sharding::ShardedTensor WeightSource::load(const std::string& name, Communicator& tp) {
  std::vector<ShardedTensor> parts = load_parts(name, tp);
  REVIVE_CHECK(parts.size() == 1, name + " is a fused parameter");
  return std::move(parts.front());
}

at::Tensor WeightSource::load_replicated(const std::string& name, Communicator& tp) {
  ShardedTensor t = load(name, tp);
  if (t.layout() != Layout::kReplicated) {
    throw Error(name + ": expected a replicated parameter, its layout is " + sharding::to_string(t.layout()));
  }
  return t.local();
}

CheckpointWeightSource::CheckpointWeightSource(const std::string& folder, const sharding::ModelDims& dims,
                                               at::ScalarType dtype, c10::Device device)
    : reader_(std::make_unique<sharding::CheckpointReader>(folder)), dims_(dims), dtype_(dtype), device_(device) {}

CheckpointWeightSource::~CheckpointWeightSource() = default;

std::string CheckpointWeightSource::stored_name(const std::string& name) const {
  static const std::string kPrefix = "transformer.";
  if (dims_.arch == sharding::Arch::kGpt2 && !reader_->contains(name) && name.rfind(kPrefix, 0) == 0 &&
      reader_->contains(name.substr(kPrefix.size()))) {
    return name.substr(kPrefix.size());
  }
  return name;
}

bool CheckpointWeightSource::contains(const std::string& name) const { return reader_->contains(stored_name(name)); }

std::vector<ShardedTensor> CheckpointWeightSource::load_parts(const std::string& name, Communicator& tp) {
  std::vector<ShardedTensor> parts = sharding::load_shard_parts(*reader_, stored_name(name), dims_, tp, dtype_);
  if (device_ != c10::Device(c10::kCPU)) {
    for (ShardedTensor& p : parts) p.local() = p.local().to(device_);
  }
  return parts;
}

InMemoryWeightSource::InMemoryWeightSource(std::map<std::string, at::Tensor> tensors,
                                           const sharding::ModelDims& dims, at::ScalarType dtype)
    : tensors_(std::move(tensors)), dims_(dims), dtype_(dtype) {}

bool InMemoryWeightSource::contains(const std::string& name) const { return tensors_.count(name) > 0; }

std::vector<ShardedTensor> InMemoryWeightSource::load_parts(const std::string& name, Communicator& tp) {
  auto it = tensors_.find(name);
  if (it == tensors_.end()) throw Error("InMemoryWeightSource: no tensor " + name);
  const sharding::ParamLayout p = sharding::param_layout(name, dims_);
  const at::Tensor& full = it->second;
  // Held in [out, in] form: the stored (checkpoint) shape with a Conv1D's dims swapped.
  std::vector<int64_t> expected = p.stored_shape;
  if (p.transpose && expected.size() == 2) std::swap(expected[0], expected[1]);
  if (full.sizes().vec() != expected) {
    throw Error("InMemoryWeightSource: " + name + " has shape " + c10::str(full.sizes()) + ", the config implies " +
                c10::str(at::IntArrayRef(expected)));
  }
  std::vector<ShardedTensor> out;
  const int64_t part_rows = full.size(0) / p.parts;
  for (int64_t part = 0; part < p.parts; ++part) {
    const at::Tensor logical = full.narrow(0, part * part_rows, part_rows);
    sharding::ShardSpec spec = p.shard_spec(name, tp.rank(), tp.size());
    at::Tensor local = spec.dim < 0 ? logical : logical.narrow(spec.dim, spec.offset, spec.length);
    out.emplace_back(local.to(dtype_).contiguous().clone(), std::move(spec), tp);
  }
  return out;
}

}  // namespace revive::model
