#pragma once
// The few numbers of a model architecture that decide how its checkpoint
// tensors are named, shaped and split. sharding/ knows nothing of config.json;
// lib/model fills this from a ModelConfig (model::model_dims()).
#include <cstdint>

namespace revive::sharding {

enum class Arch {
  kLlama,  // llama, mistral, qwen2 (HF LlamaForCausalLM naming: model.layers.N...)
  kGpt2,   // gpt2 (HF GPT2LMHeadModel naming: transformer.h.N..., Conv1D weights)
};

struct ModelDims {
  Arch arch = Arch::kLlama;
  int64_t vocab_size = 0;
  int64_t hidden_size = 0;
  int64_t intermediate_size = 0;
  int64_t num_layers = 0;
  int64_t num_heads = 0;
  int64_t num_kv_heads = 0;
  int64_t head_dim = 0;
  int64_t max_positions = 0;  // GPT-2's learned position table (wpe) has this many rows
};

}  // namespace revive::sharding
