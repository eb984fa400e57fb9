#include "sharding/layout/param_layout.h"

#include "sharding/errors.h"

namespace revive::sharding {
namespace {

bool name_starts_with(const std::string& s, const std::string& p) { return s.compare(0, p.size(), p) == 0; }
bool name_ends_with(const std::string& s, const std::string& p) {
  return s.size() >= p.size() && s.compare(s.size() - p.size(), p.size(), p) == 0;
}

// "<prefix><digits>.<rest>" -> layer and rest. Digits are bounded so a hostile
// name cannot overflow.
bool split_layer(const std::string& name, const std::string& prefix, int64_t* layer, std::string* rest) {
  if (!name_starts_with(name, prefix)) return false;
  size_t i = prefix.size();
  int64_t v = 0;
  const size_t first = i;
  while (i < name.size() && name[i] >= '0' && name[i] <= '9' && i - first < 9) v = v * 10 + (name[i++] - '0');
  if (i == first || i >= name.size() || name[i] != '.') return false;
  *layer = v;
  *rest = name.substr(i + 1);
  return true;
}

// GPT2LMHeadModel saves "transformer.h.0...", a bare GPT2Model "h.0...".
std::string gpt2_unprefixed(const std::string& name) {
  return name_starts_with(name, "transformer.") ? name.substr(12) : name;
}

ParamLayout make_layout(Layout layout, std::vector<int64_t> stored, int64_t granule = 1, std::string granule_name = {},
                 bool transpose = false, int64_t parts = 1) {
  ParamLayout p;
  p.layout = layout;
  p.stored_shape = std::move(stored);
  p.granule = granule;
  p.granule_name = std::move(granule_name);
  p.transpose = transpose;
  p.parts = parts;
  return p;
}

std::optional<ParamLayout> llama_layout(const std::string& name, const ModelDims& d, std::string* why) {
  const int64_t E = d.hidden_size, I = d.intermediate_size, hd = d.head_dim;
  const int64_t q = d.num_heads * hd, kv = d.num_kv_heads * hd;
  if (name == "model.embed_tokens.weight" || name == "lm_head.weight") return make_layout(Layout::kVocab, {d.vocab_size, E});
  if (name == "model.norm.weight") return make_layout(Layout::kReplicated, {E});
  int64_t layer = 0;
  std::string rest;
  if (!split_layer(name, "model.layers.", &layer, &rest)) {
    *why = "not a parameter name of a llama-family model";
    return std::nullopt;
  }
  if (layer >= d.num_layers) {
    *why = "layer " + std::to_string(layer) + " but the config has " + std::to_string(d.num_layers) + " layers";
    return std::nullopt;
  }
  if (rest == "input_layernorm.weight" || rest == "post_attention_layernorm.weight") {
    return make_layout(Layout::kReplicated, {E});
  }
  if (rest == "self_attn.q_proj.weight") return make_layout(Layout::kColumn, {q, E}, hd, "q heads");
  if (rest == "self_attn.q_proj.bias") return make_layout(Layout::kColumn, {q}, hd, "q heads");
  if (rest == "self_attn.k_proj.weight" || rest == "self_attn.v_proj.weight") {
    return make_layout(Layout::kColumn, {kv, E}, hd, "kv heads");
  }
  if (rest == "self_attn.k_proj.bias" || rest == "self_attn.v_proj.bias") {
    return make_layout(Layout::kColumn, {kv}, hd, "kv heads");
  }
  if (rest == "self_attn.o_proj.weight") return make_layout(Layout::kRow, {E, q}, hd, "q heads");
  if (rest == "self_attn.o_proj.bias" || rest == "mlp.down_proj.bias") return make_layout(Layout::kReplicated, {E});
  if (rest == "mlp.gate_proj.weight" || rest == "mlp.up_proj.weight") return make_layout(Layout::kColumn, {I, E});
  if (rest == "mlp.gate_proj.bias" || rest == "mlp.up_proj.bias") return make_layout(Layout::kColumn, {I});
  if (rest == "mlp.down_proj.weight") return make_layout(Layout::kRow, {E, I});
  *why = "not a parameter name of a llama-family model";
  return std::nullopt;
}

std::optional<ParamLayout> gpt2_layout(const std::string& full, const ModelDims& d, std::string* why) {
  const int64_t E = d.hidden_size, I = d.intermediate_size, hd = d.head_dim;
  if (full == "lm_head.weight") return make_layout(Layout::kVocab, {d.vocab_size, E});
  const std::string name = gpt2_unprefixed(full);
  if (name == "wte.weight") return make_layout(Layout::kVocab, {d.vocab_size, E});
  if (name == "wpe.weight") return make_layout(Layout::kReplicated, {d.max_positions, E});
  if (name == "ln_f.weight" || name == "ln_f.bias") return make_layout(Layout::kReplicated, {E});
  int64_t layer = 0;
  std::string rest;
  if (!split_layer(name, "h.", &layer, &rest)) {
    *why = "not a parameter name of a gpt2 model";
    return std::nullopt;
  }
  if (layer >= d.num_layers) {
    *why = "layer " + std::to_string(layer) + " but the config has " + std::to_string(d.num_layers) + " layers";
    return std::nullopt;
  }
  if (rest == "ln_1.weight" || rest == "ln_1.bias" || rest == "ln_2.weight" || rest == "ln_2.bias") {
    return make_layout(Layout::kReplicated, {E});
  }
  if (rest == "attn.c_attn.weight") return make_layout(Layout::kColumn, {E, 3 * E}, hd, "heads", true, 3);
  if (rest == "attn.c_attn.bias") return make_layout(Layout::kColumn, {3 * E}, hd, "heads", false, 3);
  if (rest == "attn.c_proj.weight") return make_layout(Layout::kRow, {E, E}, hd, "heads", true);
  if (rest == "attn.c_proj.bias" || rest == "mlp.c_proj.bias") return make_layout(Layout::kReplicated, {E});
  if (rest == "mlp.c_fc.weight") return make_layout(Layout::kColumn, {E, I}, 1, {}, true);
  if (rest == "mlp.c_fc.bias") return make_layout(Layout::kColumn, {I});
  if (rest == "mlp.c_proj.weight") return make_layout(Layout::kRow, {I, E}, 1, {}, true);
  *why = "not a parameter name of a gpt2 model";
  return std::nullopt;
}

}  // namespace

std::vector<int64_t> ParamLayout::part_shape() const {
  std::vector<int64_t> s = stored_shape;
  if (transpose && s.size() == 2) std::swap(s[0], s[1]);
  if (parts > 1 && !s.empty()) s[0] /= parts;
  return s;
}

ShardSpec ParamLayout::shard_spec(const std::string& name, int tp_rank, int tp_size) const {
  const std::vector<int64_t> shape = part_shape();
  ShardSpec spec = ShardSpec::make(layout, shape, tp_rank, tp_size);
  if (spec.dim >= 0 && granule > 1) {
    const int64_t extent = shape[static_cast<size_t>(spec.dim)];
    const int64_t units = extent / granule;
    if (extent % granule != 0 || units % tp_size != 0) {
      throw Error(name + ": tensor-parallel size " + std::to_string(tp_size) + " does not divide the " +
                  std::to_string(units) + " " + granule_name + " (" + std::to_string(extent) + " = " +
                  std::to_string(units) + " x " + std::to_string(granule) + "); shards must hold whole heads");
    }
  }
  return spec;
}

std::optional<ParamLayout> find_param_layout(const std::string& name, const ModelDims& dims, std::string* why) {
  std::string reason;
  auto out = dims.arch == Arch::kGpt2 ? gpt2_layout(name, dims, &reason) : llama_layout(name, dims, &reason);
  if (!out && why) *why = reason;
  return out;
}

std::optional<int64_t> block_index(const std::string& name, Arch arch) {
  int64_t layer = 0;
  std::string rest;
  const bool in_block = arch == Arch::kGpt2 ? split_layer(gpt2_unprefixed(name), "h.", &layer, &rest)
                                            : split_layer(name, "model.layers.", &layer, &rest);
  if (!in_block) return std::nullopt;
  return layer;
}

ParamLayout param_layout(const std::string& name, const ModelDims& dims) {
  std::string why;
  auto out = find_param_layout(name, dims, &why);
  if (!out) throw Error(name + ": " + why);
  return *out;
}

bool is_non_parameter_buffer(const std::string& name) {
  return name_ends_with(name, ".rotary_emb.inv_freq") || name_ends_with(name, ".attn.bias") ||
         name_ends_with(name, ".attn.masked_bias");
}

std::vector<std::string> parameter_names(const ModelDims& dims, const ParamNameOptions& opts) {
  std::vector<std::string> out;
  if (dims.arch == Arch::kGpt2) {
    out = {"transformer.wte.weight", "transformer.wpe.weight"};
    for (int64_t l = 0; l < dims.num_layers; ++l) {
      const std::string p = "transformer.h." + std::to_string(l) + ".";
      for (const char* s : {"ln_1.weight", "ln_1.bias", "attn.c_attn.weight", "attn.c_attn.bias", "attn.c_proj.weight",
                            "attn.c_proj.bias", "ln_2.weight", "ln_2.bias", "mlp.c_fc.weight", "mlp.c_fc.bias",
                            "mlp.c_proj.weight", "mlp.c_proj.bias"}) {
        out.push_back(p + s);
      }
    }
    out.push_back("transformer.ln_f.weight");
    out.push_back("transformer.ln_f.bias");
  } else {
    out = {"model.embed_tokens.weight"};
    for (int64_t l = 0; l < dims.num_layers; ++l) {
      const std::string p = "model.layers." + std::to_string(l) + ".";
      for (const char* m : {"q_proj", "k_proj", "v_proj"}) {
        out.push_back(p + "self_attn." + m + ".weight");
        if (opts.attention_bias) out.push_back(p + "self_attn." + m + ".bias");
      }
      out.push_back(p + "self_attn.o_proj.weight");
      if (opts.attention_out_bias) out.push_back(p + "self_attn.o_proj.bias");
      for (const char* m : {"gate_proj", "up_proj", "down_proj"}) {
        out.push_back(p + "mlp." + m + ".weight");
        if (opts.mlp_bias) out.push_back(p + "mlp." + m + ".bias");
      }
      out.push_back(p + "input_layernorm.weight");
      out.push_back(p + "post_attention_layernorm.weight");
    }
    out.push_back("model.norm.weight");
  }
  if (!opts.tie_word_embeddings) out.push_back("lm_head.weight");
  return out;
}

}  // namespace revive::sharding
