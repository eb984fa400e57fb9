#pragma once
// Teacher-forced top-1 accuracy of continuations: for every target token, is it
// the argmax of the model's next-token distribution given the prompt and the
// gold target prefix? The building block of zsRE token accuracy and of fact
// recall ("every target token is the argmax").
#include <cstdint>
#include <vector>

#include "lib/model/log_probs.h"
#include "lib/model/model_fwd.h"

namespace revive::eval {

struct TargetHits {
  int64_t correct = 0;     // target tokens that are the argmax
  int64_t num_tokens = 0;  // target tokens
  bool all_correct() const { return num_tokens > 0 && correct == num_tokens; }
  double accuracy() const { return num_tokens > 0 ? static_cast<double>(correct) / static_cast<double>(num_tokens) : 0.0; }
};

// One entry per item, batch_size items per forward pass (no gradients). Ties in
// the argmax go to the lowest token id (as torch.argmax).
std::vector<TargetHits> target_argmax_hits(model::Transformer& model, const std::vector<model::Continuation>& items,
                                           int64_t batch_size = 8);

}  // namespace revive::eval
