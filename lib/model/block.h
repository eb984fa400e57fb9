#pragma once
// A transformer block (decoder layer) of one architecture, built from
// tensor-parallel layers. The Transformer prepares what every block of a
// forward pass shares (BlockContext) and chains the blocks.
#include <ATen/core/Tensor.h>

#include <string>
#include <vector>

#include "sharding/sharded_tensor.h"

namespace revive::model {

class Hooks;
class KvCache;

struct BlockContext {
  at::Tensor allowed;             // [B, 1, T, S] attention mask (attention.h causal_mask)
  at::Tensor rope_cos, rope_sin;  // [B, 1, T, head_dim]; undefined without RoPE
  KvCache* cache = nullptr;       // incremental decoding, or null
  Hooks* hooks = nullptr;         // key capture / residual deltas, or null
};

class Block {
 public:
  virtual ~Block() = default;
  // x: [B, T, hidden] replicated over tp -> block output, replicated.
  virtual at::Tensor forward(const at::Tensor& x, const BlockContext& ctx) = 0;
  // Names of the linear modules (HF names relative to the block) - what hooks
  // may capture and editing may rewrite.
  virtual std::vector<std::string> module_names() const = 0;
  // The weight shard of linear module `module` ([out, in] convention); throws
  // for an unknown name. GPT-2's c_attn has parts q, k, v: "attn.c_attn.q" etc.
  virtual sharding::ShardedTensor& linear_weight(const std::string& module) = 0;
};

}  // namespace revive::model
