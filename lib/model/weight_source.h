#pragma once
// Where a Transformer's weights come from: a rank asks for HF tensor names and
// gets its own shards, laid out by sharding/layout (which parameter is column-,
// row-, vocab-parallel or replicated; GPT-2 Conv1D transposed to [out, in];
// GPT-2's fused c_attn returned as its q, k, v parts).
//  * CheckpointWeightSource reads an HF folder, each rank only its slices.
//  * InMemoryWeightSource cuts shards out of full tensors the caller holds
//    (tests, models built in code); they are given in [out, in] form, c_attn
//    fused as [3E, E].
#include <ATen/core/Tensor.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "sharding/checkpoint/safetensors.h"
#include "sharding/layout/model_dims.h"
#include "sharding/sharded_tensor.h"

namespace revive::model {

class WeightSource {
 public:
  virtual ~WeightSource() = default;
  virtual bool contains(const std::string& name) const = 0;
  // This rank's shards of every logical part of `name` (one, or q, k, v).
  virtual std::vector<sharding::ShardedTensor> load_parts(const std::string& name, sharding::Communicator& tp) = 0;

  // A single-part parameter's shard.
  sharding::ShardedTensor load(const std::string& name, sharding::Communicator& tp);
  // A replicated parameter (norms, position table, row-parallel biases): the full tensor.
  at::Tensor load_replicated(const std::string& name, sharding::Communicator& tp);
};

class CheckpointWeightSource final : public WeightSource {
 public:
  // Reads tensors from `folder` as `dtype`, moved to `device`.
  CheckpointWeightSource(const std::string& folder, const sharding::ModelDims& dims, at::ScalarType dtype,
                         c10::Device device = c10::Device(c10::kCPU));
  ~CheckpointWeightSource() override;
  bool contains(const std::string& name) const override;
  std::vector<sharding::ShardedTensor> load_parts(const std::string& name, sharding::Communicator& tp) override;
  const sharding::CheckpointReader& reader() const { return *reader_; }

 private:
  // The name as stored: GPT-2 files may omit the "transformer." prefix.
  std::string stored_name(const std::string& name) const;

  std::unique_ptr<sharding::CheckpointReader> reader_;
  sharding::ModelDims dims_;
  at::ScalarType dtype_;
  c10::Device device_;
};

class InMemoryWeightSource final : public WeightSource {
 public:
  InMemoryWeightSource(std::map<std::string, at::Tensor> tensors, const sharding::ModelDims& dims,
                       at::ScalarType dtype);
  bool contains(const std::string& name) const override;
  std::vector<sharding::ShardedTensor> load_parts(const std::string& name, sharding::Communicator& tp) override;

 private:
  std::map<std::string, at::Tensor> tensors_;
  sharding::ModelDims dims_;
  at::ScalarType dtype_;
};

}  // namespace revive::model
