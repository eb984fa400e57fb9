#pragma once
// Text generation with a KV cache: greedy decoding or top-k sampling (seeded,
// so every tp rank - which sees identical logits - draws identical tokens).
// Prompts of different lengths run as one right-padded batch.
#include <cstdint>
#include <optional>
#include <vector>

namespace revive::model {

class Transformer;

struct GenerationOptions {
  int64_t max_new_tokens = 32;
  int64_t top_k = 1;          // 1: greedy; k > 1: sample among the k most likely tokens
  double temperature = 1.0;   // divides the logits before top-k sampling
  uint64_t seed = 0;          // sampling seed
  std::optional<int64_t> eos_id;  // stop a row after it emits this token (kept in the output)
};

// The new tokens of each prompt (prompts are token ids, each non-empty).
std::vector<std::vector<int64_t>> generate(Transformer& model, const std::vector<std::vector<int64_t>>& prompts,
                                           const GenerationOptions& opts = {});

}  // namespace revive::model
