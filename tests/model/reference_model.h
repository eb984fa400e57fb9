#pragma once
// Test support for the transformer tests: tiny random Llama / GPT-2 weights
// (HF names, [out, in] convention, GPT-2 c_attn fused as [3E, E]) and a
// straightforward unsharded forward pass written independently of lib/model
// (explicit per-head loops, RoPE on explicit (i, i + d/2) pairs), used as the
// exact reference.
#include <ATen/ATen.h>

#include <cmath>
#include <map>
#include <string>

#include "lib/model/config.h"

namespace revive::model::testing {

using Weights = std::map<std::string, at::Tensor>;

inline at::Tensor rnd(std::vector<int64_t> shape, at::Generator& g, double scale = 0.2) {
  return at::randn(shape, g, at::TensorOptions().dtype(at::kDouble)) * scale;
}

inline ModelConfig tiny_llama_config(bool tied = false, bool bias = true) {
  ModelConfig c;
  c.model_type = "llama";
  c.family = Family::kLlama;
  c.vocab_size = 37;
  c.hidden_size = 32;
  c.intermediate_size = 42;  // uneven over 4 ranks
  c.num_layers = 2;
  c.num_heads = 8;
  c.num_kv_heads = 4;
  c.head_dim = 4;
  c.max_position_embeddings = 128;
  c.rms_norm_eps = 1e-5;
  c.rope_theta = 500.0;
  c.rope_scaling.type = "llama3";
  c.rope_scaling.factor = 8.0;
  c.rope_scaling.low_freq_factor = 1.0;
  c.rope_scaling.high_freq_factor = 4.0;
  c.rope_scaling.original_max_position_embeddings = 64;
  c.attention_bias = bias;
  c.tie_word_embeddings = tied;
  c.hidden_act = "silu";
  c.source = "<test>/config.json";
  return c;
}

inline ModelConfig tiny_gpt2_config() {
  ModelConfig c;
  c.model_type = "gpt2";
  c.family = Family::kGpt2;
  c.vocab_size = 41;
  c.hidden_size = 16;
  c.intermediate_size = 64;
  c.num_layers = 2;
  c.num_heads = 4;
  c.num_kv_heads = 4;
  c.head_dim = 4;
  c.max_position_embeddings = 32;
  c.layer_norm_eps = 1e-5;
  c.tie_word_embeddings = true;
  c.hidden_act = "gelu_new";
  c.source = "<test>/config.json";
  return c;
}

inline Weights random_llama(const ModelConfig& c, uint64_t seed) {
  auto g = at::make_generator<at::CPUGeneratorImpl>(seed);
  const int64_t E = c.hidden_size, I = c.intermediate_size, q = c.num_heads * c.head_dim,
                kv = c.num_kv_heads * c.head_dim;
  Weights w;
  w["model.embed_tokens.weight"] = rnd({c.vocab_size, E}, g, 1.0);
  w["model.norm.weight"] = 1.0 + rnd({E}, g);
  if (!c.tie_word_embeddings) w["lm_head.weight"] = rnd({c.vocab_size, E}, g);
  for (int64_t l = 0; l < c.num_layers; ++l) {
    const std::string p = "model.layers." + std::to_string(l) + ".";
    w[p + "input_layernorm.weight"] = 1.0 + rnd({E}, g);
    w[p + "post_attention_layernorm.weight"] = 1.0 + rnd({E}, g);
    w[p + "self_attn.q_proj.weight"] = rnd({q, E}, g);
    w[p + "self_attn.k_proj.weight"] = rnd({kv, E}, g);
    w[p + "self_attn.v_proj.weight"] = rnd({kv, E}, g);
    w[p + "self_attn.o_proj.weight"] = rnd({E, q}, g);
    if (c.attention_bias) {
      w[p + "self_attn.q_proj.bias"] = rnd({q}, g);
      w[p + "self_attn.k_proj.bias"] = rnd({kv}, g);
      w[p + "self_attn.v_proj.bias"] = rnd({kv}, g);
    }
    w[p + "mlp.gate_proj.weight"] = rnd({I, E}, g);
    w[p + "mlp.up_proj.weight"] = rnd({I, E}, g);
    w[p + "mlp.down_proj.weight"] = rnd({E, I}, g);
  }
  return w;
}

// GPT-2 weights in [out, in] form (c_attn fused [3E, E]); HF "transformer." names.
inline Weights random_gpt2(const ModelConfig& c, uint64_t seed) {
  auto g = at::make_generator<at::CPUGeneratorImpl>(seed);
  const int64_t E = c.hidden_size, I = c.intermediate_size;
  Weights w;
  w["transformer.wte.weight"] = rnd({c.vocab_size, E}, g, 1.0);
  w["transformer.wpe.weight"] = rnd({c.max_position_embeddings, E}, g, 0.5);
  w["transformer.ln_f.weight"] = 1.0 + rnd({E}, g);
  w["transformer.ln_f.bias"] = rnd({E}, g);
  for (int64_t l = 0; l < c.num_layers; ++l) {
    const std::string p = "transformer.h." + std::to_string(l) + ".";
    w[p + "ln_1.weight"] = 1.0 + rnd({E}, g);
    w[p + "ln_1.bias"] = rnd({E}, g);
    w[p + "ln_2.weight"] = 1.0 + rnd({E}, g);
    w[p + "ln_2.bias"] = rnd({E}, g);
    w[p + "attn.c_attn.weight"] = rnd({3 * E, E}, g, 0.4);
    w[p + "attn.c_attn.bias"] = rnd({3 * E}, g);
    w[p + "attn.c_proj.weight"] = rnd({E, E}, g);
    w[p + "attn.c_proj.bias"] = rnd({E}, g);
    w[p + "mlp.c_fc.weight"] = rnd({I, E}, g);
    w[p + "mlp.c_fc.bias"] = rnd({I}, g);
    w[p + "mlp.c_proj.weight"] = rnd({E, I}, g);
    w[p + "mlp.c_proj.bias"] = rnd({E}, g);
  }
  return w;
}

// Inverse frequencies, element by element (llama3 rule from the Llama 3.1 release).
inline std::vector<double> reference_inv_freq(const ModelConfig& c) {
  std::vector<double> f;
  const int64_t d = c.head_dim;
  for (int64_t i = 0; i < d / 2; ++i) {
    double v = 1.0 / std::pow(c.rope_theta, static_cast<double>(2 * i) / static_cast<double>(d));
    if (c.rope_scaling.type == "llama3") {
      const RopeScaling& s = c.rope_scaling;
      const double wavelen = 2 * M_PI / v;
      const double old = static_cast<double>(s.original_max_position_embeddings);
      if (wavelen < old / s.high_freq_factor) {
        // high frequency: unchanged
      } else if (wavelen > old / s.low_freq_factor) {
        v = v / s.factor;
      } else {
        const double smooth = (old / wavelen - s.low_freq_factor) / (s.high_freq_factor - s.low_freq_factor);
        v = (1 - smooth) * v / s.factor + smooth * v;
      }
    }
    f.push_back(v);
  }
  return f;
}

// x [T, H, d] at positions 0..T-1, pairs (i, i + d/2) rotated by angle p * f_i.
inline at::Tensor reference_rope(const at::Tensor& x, const std::vector<double>& inv_freq) {
  at::Tensor out = x.clone();
  const int64_t T = x.size(0), half = x.size(2) / 2;
  for (int64_t p = 0; p < T; ++p) {
    for (int64_t i = 0; i < half; ++i) {
      const double a = static_cast<double>(p) * inv_freq[static_cast<size_t>(i)];
      const at::Tensor x1 = x.select(0, p).select(1, i), x2 = x.select(0, p).select(1, i + half);
      out.select(0, p).select(1, i).copy_(x1 * std::cos(a) - x2 * std::sin(a));
      out.select(0, p).select(1, i + half).copy_(x2 * std::cos(a) + x1 * std::sin(a));
    }
  }
  return out;
}

// Causal attention of one sequence, head by head: q [T, H, d], k/v [T, Hkv, d].
inline at::Tensor reference_attention(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v) {
  const int64_t T = q.size(0), H = q.size(1), Hkv = k.size(1), d = q.size(2);
  std::vector<at::Tensor> heads;
  const at::Tensor future = at::ones({T, T}, at::kBool).triu(1);
  for (int64_t h = 0; h < H; ++h) {
    const int64_t g = h / (H / Hkv);
    at::Tensor s = q.select(1, h).matmul(k.select(1, g).t()) / std::sqrt(static_cast<double>(d));
    s = s.masked_fill(future, -1e300);
    heads.push_back(at::softmax(s, -1).matmul(v.select(1, g)));
  }
  return at::cat(heads, 1);  // [T, H*d]
}

struct ReferenceExtras {
  int64_t delta_layer = -1;  // add `delta` to this block's output at token `delta_pos`
  int64_t delta_pos = 0;
  at::Tensor delta;
  int64_t capture_layer = -1;  // record layer's down_proj / mlp.c_proj input
  at::Tensor captured;         // [T, I]
};

// Logits [T, V] of one sequence ids [T] (f64).
inline at::Tensor reference_llama(const ModelConfig& c, const Weights& w, const at::Tensor& ids,
                                  ReferenceExtras* extra = nullptr) {
  const int64_t T = ids.size(0), d = c.head_dim;
  auto W = [&](const std::string& n) { return w.at(n); };
  auto rms = [&](const at::Tensor& x, const at::Tensor& g) {
    return x / at::sqrt(x.pow(2).mean(-1, true) + c.rms_norm_eps) * g;
  };
  const std::vector<double> inv = reference_inv_freq(c);
  at::Tensor h = W("model.embed_tokens.weight").index_select(0, ids);
  for (int64_t l = 0; l < c.num_layers; ++l) {
    const std::string p = "model.layers." + std::to_string(l) + ".";
    auto lin = [&](const at::Tensor& x, const std::string& m) {
      at::Tensor y = x.matmul(W(p + m + ".weight").t());
      if (w.count(p + m + ".bias")) y = y + W(p + m + ".bias");
      return y;
    };
    const at::Tensor n1 = rms(h, W(p + "input_layernorm.weight"));
    const at::Tensor q = reference_rope(lin(n1, "self_attn.q_proj").view({T, c.num_heads, d}), inv);
    const at::Tensor k = reference_rope(lin(n1, "self_attn.k_proj").view({T, c.num_kv_heads, d}), inv);
    const at::Tensor v = lin(n1, "self_attn.v_proj").view({T, c.num_kv_heads, d});
    h = h + lin(reference_attention(q, k, v), "self_attn.o_proj");
    const at::Tensor n2 = rms(h, W(p + "post_attention_layernorm.weight"));
    const at::Tensor g = lin(n2, "mlp.gate_proj");
    const at::Tensor act = g * at::sigmoid(g) * lin(n2, "mlp.up_proj");
    if (extra && extra->capture_layer == l) extra->captured = act;
    h = h + lin(act, "mlp.down_proj");
    if (extra && extra->delta_layer == l) {
      at::Tensor add = at::zeros_like(h);
      add.select(0, extra->delta_pos).copy_(extra->delta);
      h = h + add;
    }
  }
  h = rms(h, W("model.norm.weight"));
  const at::Tensor head = c.tie_word_embeddings ? W("model.embed_tokens.weight") : W("lm_head.weight");
  return h.matmul(head.t());
}

inline at::Tensor reference_gpt2(const ModelConfig& c, const Weights& w, const at::Tensor& ids,
                                 ReferenceExtras* extra = nullptr) {
  const int64_t T = ids.size(0), E = c.hidden_size, d = c.head_dim, H = c.num_heads;
  auto W = [&](const std::string& n) { return w.at(n); };
  auto ln = [&](const at::Tensor& x, const std::string& p) {
    const at::Tensor mu = x.mean(-1, true);
    const at::Tensor var = (x - mu).pow(2).mean(-1, true);
    return (x - mu) / at::sqrt(var + c.layer_norm_eps) * W(p + ".weight") + W(p + ".bias");
  };
  auto gelu_tanh = [](const at::Tensor& x) {
    return 0.5 * x * (1 + at::tanh(std::sqrt(2 / M_PI) * (x + 0.044715 * x.pow(3))));
  };
  at::Tensor h = W("transformer.wte.weight").index_select(0, ids) +
                 W("transformer.wpe.weight").narrow(0, 0, T);
  for (int64_t l = 0; l < c.num_layers; ++l) {
    const std::string p = "transformer.h." + std::to_string(l) + ".";
    const at::Tensor qkv = ln(h, p + "ln_1").matmul(W(p + "attn.c_attn.weight").t()) + W(p + "attn.c_attn.bias");
    const at::Tensor q = qkv.narrow(1, 0, E).view({T, H, d});
    const at::Tensor k = qkv.narrow(1, E, E).view({T, H, d});
    const at::Tensor v = qkv.narrow(1, 2 * E, E).view({T, H, d});
    h = h + reference_attention(q, k, v).matmul(W(p + "attn.c_proj.weight").t()) + W(p + "attn.c_proj.bias");
    const at::Tensor act = gelu_tanh(ln(h, p + "ln_2").matmul(W(p + "mlp.c_fc.weight").t()) + W(p + "mlp.c_fc.bias"));
    if (extra && extra->capture_layer == l) extra->captured = act;
    h = h + act.matmul(W(p + "mlp.c_proj.weight").t()) + W(p + "mlp.c_proj.bias");
    if (extra && extra->delta_layer == l) {
      at::Tensor add = at::zeros_like(h);
      add.select(0, extra->delta_pos).copy_(extra->delta);
      h = h + add;
    }
  }
  return ln(h, "transformer.ln_f").matmul(W("transformer.wte.weight").t());
}

}  // namespace revive::model::testing
