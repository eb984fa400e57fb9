#pragma once
// Llama-family decoder layer (llama, mistral, qwen2):
//   h   = x + o_proj(attn(rope(q_proj(n1)), rope(k_proj(n1)), v_proj(n1))),  n1 = rms_norm(x)
//   out = h + down_proj(silu(gate_proj(n2)) * up_proj(n2)),                   n2 = rms_norm(h)
// q/k/v, gate/up are column-parallel (whole heads per rank, GQA kv heads too),
// o_proj and down_proj row-parallel.
#include "lib/model/block.h"
#include "lib/model/config.h"
#include "lib/model/weight_source.h"
#include "sharding/tp/column_parallel_linear.h"
#include "sharding/tp/row_parallel_linear.h"

namespace revive::model {

// HF LlamaRMSNorm: x / sqrt(mean(x^2) + eps) * w, computed in at least f32.
at::Tensor rms_norm(const at::Tensor& x, const at::Tensor& weight, double eps);

class LlamaBlock final : public Block {
 public:
  LlamaBlock(const ModelConfig& config, int64_t layer, WeightSource& weights, sharding::Communicator& tp);

  at::Tensor forward(const at::Tensor& x, const BlockContext& ctx) override;
  std::vector<std::string> module_names() const override;
  sharding::ShardedTensor& linear_weight(const std::string& module) override;

 private:
  at::Tensor attention(const at::Tensor& n1, const BlockContext& ctx);
  at::Tensor mlp(const at::Tensor& n2, const BlockContext& ctx);

  int64_t layer_;
  int64_t heads_local_, kv_heads_local_, head_dim_;
  double eps_;
  at::Tensor input_norm_, post_norm_;
  sharding::ColumnParallelLinear q_proj_, k_proj_, v_proj_, gate_proj_, up_proj_;
  sharding::RowParallelLinear o_proj_, down_proj_;
};

}  // namespace revive::model
