#include "lib/model/llama_block.h"

#include <ATen/ATen.h>

#include <cmath>

#include "lib/model/attention.h"
#include "lib/model/hooks.h"
#include "lib/model/kv_cache.h"
#include "lib/model/rope.h"
#include "sharding/errors.h"

namespace revive::model {

using sharding::ColumnParallelLinear;
using sharding::RowParallelLinear;
using sharding::ShardedTensor;

at::Tensor rms_norm(const at::Tensor& x, const at::Tensor& weight, double eps) {
  const at::ScalarType dtype = x.scalar_type();
  const at::Tensor xf = dtype == at::kDouble ? x : x.to(at::kFloat);
  const at::Tensor normed = xf * at::rsqrt(xf.pow(2).mean(-1, /*keepdim=*/true) + eps);
  return weight * normed.to(dtype);
}

namespace {

void capture_llama_input(const BlockContext& ctx, int64_t layer, const char* module, const at::Tensor& x, bool split,
                        sharding::Communicator& tp) {
  if (ctx.hooks != nullptr && ctx.hooks->wants_input(layer, module)) {
    ctx.hooks->record_input(layer, module, x, split, tp);
  }
}

}  // namespace

LlamaBlock::LlamaBlock(const ModelConfig& c, int64_t layer, WeightSource& w, sharding::Communicator& tp)
    : layer_(layer), head_dim_(c.head_dim), eps_(c.rms_norm_eps) {
  if (!c.hidden_act.empty() && c.hidden_act != "silu") {
    throw InputError(c.source, "hidden_act", "'" + c.hidden_act + "' is not supported (silu only)");
  }
  const std::string p = "model.layers." + std::to_string(layer) + ".";
  auto column = [&](const std::string& m, bool bias) {
    return ColumnParallelLinear(w.load(p + m + ".weight", tp), bias ? w.load(p + m + ".bias", tp) : ShardedTensor(),
                                /*gather_output=*/false);
  };
  auto row = [&](const std::string& m, bool bias) {
    return RowParallelLinear(w.load(p + m + ".weight", tp), bias ? w.load_replicated(p + m + ".bias", tp) : at::Tensor());
  };
  input_norm_ = w.load_replicated(p + "input_layernorm.weight", tp);
  post_norm_ = w.load_replicated(p + "post_attention_layernorm.weight", tp);
  q_proj_ = column("self_attn.q_proj", c.attention_bias);
  k_proj_ = column("self_attn.k_proj", c.attention_bias);
  v_proj_ = column("self_attn.v_proj", c.attention_bias);
  o_proj_ = row("self_attn.o_proj", c.attention_out_bias);
  gate_proj_ = column("mlp.gate_proj", c.mlp_bias);
  up_proj_ = column("mlp.up_proj", c.mlp_bias);
  down_proj_ = row("mlp.down_proj", c.mlp_bias);
  heads_local_ = q_proj_.out_features_local() / head_dim_;
  kv_heads_local_ = k_proj_.out_features_local() / head_dim_;
}

at::Tensor LlamaBlock::attention(const at::Tensor& n1, const BlockContext& ctx) {
  sharding::Communicator& tp = q_proj_.tp();
  capture_llama_input(ctx, layer_, "self_attn.q_proj", n1, false, tp);
  capture_llama_input(ctx, layer_, "self_attn.k_proj", n1, false, tp);
  capture_llama_input(ctx, layer_, "self_attn.v_proj", n1, false, tp);
  const int64_t B = n1.size(0), T = n1.size(1);
  // [B, T, H*d] -> [B, H, T, d]
  auto heads = [&](const at::Tensor& y, int64_t h) { return y.view({B, T, h, head_dim_}).transpose(1, 2); };
  at::Tensor q = heads(q_proj_.forward(n1), heads_local_);
  at::Tensor k = heads(k_proj_.forward(n1), kv_heads_local_);
  at::Tensor v = heads(v_proj_.forward(n1), kv_heads_local_);
  q = apply_rotary(q, ctx.rope_cos, ctx.rope_sin);
  k = apply_rotary(k, ctx.rope_cos, ctx.rope_sin);
  if (ctx.cache != nullptr) std::tie(k, v) = ctx.cache->append(layer_, k, v);
  const at::Tensor a = masked_attention(q, k, v, ctx.allowed, 1.0 / std::sqrt(static_cast<double>(head_dim_)));
  capture_llama_input(ctx, layer_, "self_attn.o_proj", a, true, tp);
  return o_proj_.forward(a);
}

at::Tensor LlamaBlock::mlp(const at::Tensor& n2, const BlockContext& ctx) {
  sharding::Communicator& tp = up_proj_.tp();
  capture_llama_input(ctx, layer_, "mlp.gate_proj", n2, false, tp);
  capture_llama_input(ctx, layer_, "mlp.up_proj", n2, false, tp);
  const at::Tensor act = at::silu(gate_proj_.forward(n2)) * up_proj_.forward(n2);
  capture_llama_input(ctx, layer_, "mlp.down_proj", act, true, tp);
  return down_proj_.forward(act);
}

at::Tensor LlamaBlock::forward(const at::Tensor& x, const BlockContext& ctx) {
  const at::Tensor h = x + attention(rms_norm(x, input_norm_, eps_), ctx);
  const at::Tensor out = h + mlp(rms_norm(h, post_norm_, eps_), ctx);
  return ctx.hooks != nullptr ? ctx.hooks->apply_block_deltas(layer_, out) : out;
}

std::vector<std::string> LlamaBlock::module_names() const {
  return {"self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj", "self_attn.o_proj",
          "mlp.gate_proj",    "mlp.up_proj",      "mlp.down_proj"};
}

ShardedTensor& LlamaBlock::linear_weight(const std::string& m) {
  if (m == "self_attn.q_proj") return q_proj_.weight();
  if (m == "self_attn.k_proj") return k_proj_.weight();
  if (m == "self_attn.v_proj") return v_proj_.weight();
  if (m == "self_attn.o_proj") return o_proj_.weight();
  if (m == "mlp.gate_proj") return gate_proj_.weight();
  if (m == "mlp.up_proj") return up_proj_.weight();
  if (m == "mlp.down_proj") return down_proj_.weight();
  throw Error("LlamaBlock: no linear module '" + m + "'");
}

}  // namespace revive::model
