#pragma once
// HF config.json of a supported architecture. Unknown model_type or a
// missing/ill-typed field is a revive::InputError naming config.json and field.
//
// Required fields (no silent defaults for the shape of the model):
//   llama/mistral/qwen2: vocab_size, hidden_size, intermediate_size,
//     num_hidden_layers, num_attention_heads;
//   gpt2: vocab_size, n_embd, n_layer, n_head, n_positions.
// Everything else takes the default of the HF config class when absent or null
// (num_key_value_heads = num_attention_heads, head_dim = hidden/heads,
// n_inner = 4 n_embd, tie_word_embeddings false for the Llama family and true
// for gpt2, qwen2 always has q/k/v biases). Features the forward does not
// implement (rope scaling other than llama3, a non-SiLU Llama MLP, GPT-2's
// per-layer attention scaling) are rejected here rather than run wrong.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "sharding/layout/model_dims.h"

namespace revive::model {

enum class Family { kLlama, kGpt2 };  // llama, mistral, qwen2 -> kLlama

struct RopeScaling {           // llama3 rope_scaling
  std::string type;            // "" (none) or "llama3"
  double factor = 1.0;
  double low_freq_factor = 1.0;
  double high_freq_factor = 4.0;
  int64_t original_max_position_embeddings = 8192;
};

struct ModelConfig {
  std::string model_type;      // as written in config.json
  Family family = Family::kLlama;
  int64_t vocab_size = 0;
  int64_t hidden_size = 0;
  int64_t intermediate_size = 0;
  int64_t num_layers = 0;
  int64_t num_heads = 0;
  int64_t num_kv_heads = 0;    // = num_heads without GQA
  int64_t head_dim = 0;        // hidden_size / num_heads unless given
  int64_t max_position_embeddings = 0;
  double rms_norm_eps = 1e-6;  // llama family
  double layer_norm_eps = 1e-5;  // gpt2
  double rope_theta = 10000.0;
  RopeScaling rope_scaling;
  bool attention_bias = false; // q/k/v bias (qwen2: true)
  bool tie_word_embeddings = false;
  std::optional<int64_t> bos_token_id, eos_token_id;
  std::string torch_dtype;     // informational
  // Extensions beyond the original contract.
  bool attention_out_bias = false;   // o_proj bias (llama attention_bias; qwen2: false)
  bool mlp_bias = false;             // gate/up/down bias (llama mlp_bias)
  std::string hidden_act;            // "silu" (llama family); gpt2 activation_function
  std::vector<int64_t> eos_token_ids;  // all of a list-valued eos_token_id (Llama-3 instruct)
  std::string source;                // the config.json path read

  // `length` cut to the positions the model was trained on (0: no limit known):
  // past them a model's NLL and keys are no longer its own.
  int64_t within_positions(int64_t length) const {
    return max_position_embeddings > 0 && length > max_position_embeddings ? max_position_embeddings : length;
  }
};

// Reads and validates `<folder>/config.json` (or a config.json path).
ModelConfig load_config(const std::string& path);
// Parses config.json text; `source` names the file in errors.
ModelConfig parse_config(const std::string& text, const std::string& source);

// The numbers the shard layouts need (sharding/layout/model_dims.h).
sharding::ModelDims model_dims(const ModelConfig& config);

}  // namespace revive::model
