#pragma once
// Writes a GPT-2 checkpoint folder the way HF's GPT2LMHeadModel stores one:
// Conv1D weights (c_attn, c_proj, c_fc) as [in, out], tied embeddings (no
// lm_head.weight), config.json with GPT-2's field names.
#include <fstream>
#include <string>

#include "sharding/checkpoint/safetensors.h"
#include "tests/model/reference_model.h"

namespace revive::model::testing {

inline bool is_conv1d(const std::string& name) {
  auto ends = [&](const std::string& s) {
    return name.size() >= s.size() && name.compare(name.size() - s.size(), s.size(), s) == 0;
  };
  return ends("c_attn.weight") || ends("c_proj.weight") || ends("c_fc.weight");
}

// `prefixed`: names start with "transformer." (newer files) or not (original gpt2).
inline void write_gpt2_checkpoint(const std::string& dir, const ModelConfig& c, const Weights& w, bool prefixed) {
  sharding::NamedTensors tensors;
  for (const auto& [name, t] : w) {
    const std::string stored = prefixed ? name : name.substr(std::string("transformer.").size());
    tensors.emplace_back(stored, is_conv1d(name) ? t.t().contiguous() : t);
  }
  sharding::write_checkpoint(dir, tensors);
  std::ofstream cfg(dir + "/config.json");
  cfg << "{\"model_type\": \"gpt2\", \"vocab_size\": " << c.vocab_size << ", \"n_embd\": " << c.hidden_size
      << ", \"n_layer\": " << c.num_layers << ", \"n_head\": " << c.num_heads
      << ", \"n_positions\": " << c.max_position_embeddings << ", \"n_inner\": " << c.intermediate_size
      << ", \"layer_norm_epsilon\": " << c.layer_norm_eps << ", \"activation_function\": \"gelu_new\"}\n";
}

}  // namespace revive::model::testing
