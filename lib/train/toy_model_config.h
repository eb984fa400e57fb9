#pragma once
// The architecture of the toy world's model: a small Llama (RMSNorm, RoPE,
// SwiGLU, untied LM head) sized by a few options, written as an HF config.json
// that lib/model reads back like any other checkpoint's.
#include <cstdint>
#include <string>

#include "lib/model/config.h"

namespace revive::train {

struct ToyModelOptions {
  int64_t hidden_size = 64;
  int64_t num_layers = 2;
  int64_t num_heads = 4;
  int64_t intermediate_size = 256;
  int64_t max_positions = 64;  // the toy world's sentences are about ten tokens
  double rope_theta = 10000.0;
  double rms_norm_eps = 1e-5;
};

// Throws revive::Error naming the option when the options cannot form a model
// (non-positive sizes, hidden_size not a multiple of num_heads, odd head_dim).
void validate(const ToyModelOptions& options);

// Special token ids of the vocabulary the model is trained with.
struct ToySpecialTokens {
  int64_t bos = 1, eos = 2, pad = 3;
};

// The text of config.json (model_type "llama", float32) for a vocabulary of
// `vocab_size` tokens.
std::string toy_llama_config_json(const ToyModelOptions& options, int64_t vocab_size,
                                  const ToySpecialTokens& special = {});

// The same config as lib/model parses it (so training uses exactly what a later
// load_model() will).
model::ModelConfig toy_llama_config(const ToyModelOptions& options, int64_t vocab_size,
                                    const ToySpecialTokens& special = {});

}  // namespace revive::train
