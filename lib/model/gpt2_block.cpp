#include "lib/model/gpt2_block.h"

#include <ATen/ATen.h>

#include <cmath>

#include "lib/model/attention.h"
#include "lib/model/hooks.h"
#include "lib/model/kv_cache.h"
#include "sharding/errors.h"

namespace revive::model {

using sharding::ColumnParallelLinear;
using sharding::RowParallelLinear;
using sharding::ShardedTensor;

namespace {

void capture_gpt2_input(const BlockContext& ctx, int64_t layer, const char* module, const at::Tensor& x, bool split,
                        sharding::Communicator& tp) {
  if (ctx.hooks != nullptr && ctx.hooks->wants_input(layer, module)) {
    ctx.hooks->record_input(layer, module, x, split, tp);
  }
}

}  // namespace

Gpt2Block::Gpt2Block(const ModelConfig& c, int64_t layer, WeightSource& w, sharding::Communicator& tp)
    : layer_(layer), head_dim_(c.head_dim), eps_(c.layer_norm_eps) {
  if (c.hidden_act == "gelu") {
    gelu_approximate_ = "none";  // exact erf GELU
  } else if (!c.hidden_act.empty() && c.hidden_act != "gelu_new" && c.hidden_act != "gelu_pytorch_tanh") {
    throw InputError(c.source, "activation_function", "'" + c.hidden_act + "' is not supported");
  }
  const std::string p = "transformer.h." + std::to_string(layer) + ".";
  ln1_w_ = w.load_replicated(p + "ln_1.weight", tp);
  ln1_b_ = w.load_replicated(p + "ln_1.bias", tp);
  ln2_w_ = w.load_replicated(p + "ln_2.weight", tp);
  ln2_b_ = w.load_replicated(p + "ln_2.bias", tp);
  std::vector<ShardedTensor> qkv_w = w.load_parts(p + "attn.c_attn.weight", tp);
  std::vector<ShardedTensor> qkv_b = w.load_parts(p + "attn.c_attn.bias", tp);
  REVIVE_CHECK(qkv_w.size() == 3 && qkv_b.size() == 3, "c_attn must come as q, k, v parts");
  q_ = ColumnParallelLinear(qkv_w[0], qkv_b[0], false);
  k_ = ColumnParallelLinear(qkv_w[1], qkv_b[1], false);
  v_ = ColumnParallelLinear(qkv_w[2], qkv_b[2], false);
  attn_proj_ = RowParallelLinear(w.load(p + "attn.c_proj.weight", tp), w.load_replicated(p + "attn.c_proj.bias", tp));
  c_fc_ = ColumnParallelLinear(w.load(p + "mlp.c_fc.weight", tp), w.load(p + "mlp.c_fc.bias", tp), false);
  mlp_proj_ = RowParallelLinear(w.load(p + "mlp.c_proj.weight", tp), w.load_replicated(p + "mlp.c_proj.bias", tp));
  heads_local_ = q_.out_features_local() / head_dim_;
}

at::Tensor Gpt2Block::forward(const at::Tensor& x, const BlockContext& ctx) {
  sharding::Communicator& tp = q_.tp();
  const int64_t B = x.size(0), T = x.size(1), E = x.size(2);
  const at::Tensor n1 = at::layer_norm(x, {E}, ln1_w_, ln1_b_, eps_);
  capture_gpt2_input(ctx, layer_, "attn.c_attn", n1, false, tp);
  auto heads = [&](const at::Tensor& y) { return y.view({B, T, heads_local_, head_dim_}).transpose(1, 2); };
  const at::Tensor q = heads(q_.forward(n1));
  at::Tensor k = heads(k_.forward(n1));
  at::Tensor v = heads(v_.forward(n1));
  if (ctx.cache != nullptr) std::tie(k, v) = ctx.cache->append(layer_, k, v);
  const at::Tensor a = masked_attention(q, k, v, ctx.allowed, 1.0 / std::sqrt(static_cast<double>(head_dim_)));
  capture_gpt2_input(ctx, layer_, "attn.c_proj", a, true, tp);
  const at::Tensor h = x + attn_proj_.forward(a);

  const at::Tensor n2 = at::layer_norm(h, {E}, ln2_w_, ln2_b_, eps_);
  capture_gpt2_input(ctx, layer_, "mlp.c_fc", n2, false, tp);
  const at::Tensor act = at::gelu(c_fc_.forward(n2), gelu_approximate_);
  capture_gpt2_input(ctx, layer_, "mlp.c_proj", act, true, tp);
  const at::Tensor out = h + mlp_proj_.forward(act);
  return ctx.hooks != nullptr ? ctx.hooks->apply_block_deltas(layer_, out) : out;
}

std::vector<std::string> Gpt2Block::module_names() const {
  return {"attn.c_attn", "attn.c_proj", "mlp.c_fc", "mlp.c_proj"};
}

ShardedTensor& Gpt2Block::linear_weight(const std::string& m) {
  if (m == "attn.c_attn.q") return q_.weight();
  if (m == "attn.c_attn.k") return k_.weight();
  if (m == "attn.c_attn.v") return v_.weight();
  if (m == "attn.c_proj") return attn_proj_.weight();
  if (m == "mlp.c_fc") return c_fc_.weight();
  if (m == "mlp.c_proj") return mlp_proj_.weight();
  throw Error("Gpt2Block: no linear module '" + m + "'");
}

}  // namespace revive::model
