#include "lib/train/toy_model_config.h"

#include <nlohmann/json.hpp>

#include "sharding/errors.h"

namespace revive::train {

namespace {

void toy_config_require(bool ok, const std::string& option, const std::string& what) {
  if (!ok) throw Error("toy model: " + option + " " + what);
}

}  // namespace

void validate(const ToyModelOptions& o) {
  toy_config_require(o.hidden_size > 0, "hidden_size", "must be positive");
  toy_config_require(o.num_layers > 0, "num_layers", "must be positive");
  toy_config_require(o.num_heads > 0, "num_heads", "must be positive");
  toy_config_require(o.intermediate_size > 0, "intermediate_size", "must be positive");
  toy_config_require(o.max_positions > 1, "max_positions", "must be at least 2");
  toy_config_require(o.hidden_size % o.num_heads == 0, "hidden_size",
                     "(" + std::to_string(o.hidden_size) + ") must be a multiple of num_heads (" +
                         std::to_string(o.num_heads) + ")");
  toy_config_require((o.hidden_size / o.num_heads) % 2 == 0, "hidden_size / num_heads",
                     "(the head size) must be even for rotary embeddings");
  toy_config_require(o.rope_theta > 0, "rope_theta", "must be positive");
  toy_config_require(o.rms_norm_eps > 0, "rms_norm_eps", "must be positive");
}

std::string toy_llama_config_json(const ToyModelOptions& o, int64_t vocab_size,
                                  const ToySpecialTokens& special) {
  validate(o);
  toy_config_require(vocab_size > 0, "vocab_size", "must be positive");
  nlohmann::ordered_json j;
  j["architectures"] = {"LlamaForCausalLM"};
  j["model_type"] = "llama";
  j["vocab_size"] = vocab_size;
  j["hidden_size"] = o.hidden_size;
  j["intermediate_size"] = o.intermediate_size;
  j["num_hidden_layers"] = o.num_layers;
  j["num_attention_heads"] = o.num_heads;
  j["num_key_value_heads"] = o.num_heads;
  j["head_dim"] = o.hidden_size / o.num_heads;
  j["hidden_act"] = "silu";
  j["max_position_embeddings"] = o.max_positions;
  j["rms_norm_eps"] = o.rms_norm_eps;
  j["rope_theta"] = o.rope_theta;
  j["rope_scaling"] = nullptr;
  j["attention_bias"] = false;
  j["mlp_bias"] = false;
  j["tie_word_embeddings"] = false;
  j["bos_token_id"] = special.bos;
  j["eos_token_id"] = special.eos;
  j["pad_token_id"] = special.pad;
  j["torch_dtype"] = "float32";
  return j.dump(2) + "\n";
}

model::ModelConfig toy_llama_config(const ToyModelOptions& o, int64_t vocab_size,
                                    const ToySpecialTokens& special) {
  return model::parse_config(toy_llama_config_json(o, vocab_size, special), "toy model config.json");
}

}  // namespace revive::train
