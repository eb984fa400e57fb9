#pragma once
// Loading a rank's shard of a checkpoint parameter: the layout (param_layout.h)
// says which slice this rank owns, and only that slice is read
// (CheckpointReader::read_slice copies just those bytes out of the mapping).
// The stored shape is checked against the config first; a mismatch is an
// InputError naming the file and the tensor.
#include <string>
#include <vector>

#include "sharding/checkpoint/safetensors.h"
#include "sharding/layout/model_dims.h"
#include "sharding/layout/param_layout.h"
#include "sharding/sharded_tensor.h"

namespace revive::sharding {

// The shards of every logical part of `name` on this rank of `tp` (one part,
// or q, k, v for GPT-2's fused c_attn), in [out, in] convention, as `dtype`.
std::vector<ShardedTensor> load_shard_parts(const CheckpointReader& ckpt, const std::string& name,
                                            const ModelDims& dims, Communicator& tp, at::ScalarType dtype);

// The shard of a single-part parameter (an error for a fused one).
ShardedTensor load_shard(const CheckpointReader& ckpt, const std::string& name, const ModelDims& dims,
                         Communicator& tp, at::ScalarType dtype);

// The full logical parts of `name` in [out, in] convention, unsharded (the
// reference the shards are tested against, and what a tp=1 run holds).
std::vector<at::Tensor> load_full_parts(const CheckpointReader& ckpt, const std::string& name,
                                        const ModelDims& dims, at::ScalarType dtype);

// Throws InputError (file, tensor) unless `name` is a known parameter whose
// stored shape matches the config; returns its layout.
ParamLayout checked_layout(const CheckpointReader& ckpt, const std::string& name, const ModelDims& dims);

}  // namespace revive::sharding
