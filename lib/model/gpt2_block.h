#pragma once
// GPT-2 block:
//   h   = x + c_proj(attn(q, k, v)),  [q | k | v] = c_attn(ln_1(x))
//   out = h + mlp.c_proj(gelu(c_fc(ln_2(h))))
// The fused c_attn is held as three column-parallel layers q, k, v (each split
// by whole heads; the layout layer cuts the parts and transposes Conv1D's
// [in, out] storage), c_fc column-parallel, both c_proj row-parallel.
#include "lib/model/block.h"
#include "lib/model/config.h"
#include "lib/model/weight_source.h"
#include "sharding/tp/column_parallel_linear.h"
#include "sharding/tp/row_parallel_linear.h"

namespace revive::model {

class Gpt2Block final : public Block {
 public:
  Gpt2Block(const ModelConfig& config, int64_t layer, WeightSource& weights, sharding::Communicator& tp);

  at::Tensor forward(const at::Tensor& x, const BlockContext& ctx) override;
  std::vector<std::string> module_names() const override;
  sharding::ShardedTensor& linear_weight(const std::string& module) override;

 private:
  int64_t layer_;
  int64_t heads_local_, head_dim_;
  double eps_;
  std::string gelu_approximate_ = "tanh";  // gelu_new / gelu_pytorch_tanh
  at::Tensor ln1_w_, ln1_b_, ln2_w_, ln2_b_;
  sharding::ColumnParallelLinear q_, k_, v_, c_fc_;
  sharding::RowParallelLinear attn_proj_, mlp_proj_;
};

}  // namespace revive::model
