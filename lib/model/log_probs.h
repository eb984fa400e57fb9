#pragma once
// Log-probabilities of continuations: how likely the model finds `target`
// after `prompt`. Used by evaluation (efficacy, perplexity) and, through the
// differentiable pieces, by value optimisation.
#include <ATen/core/Tensor.h>

#include <cstdint>
#include <vector>

#include "lib/model/batching.h"

namespace revive::model {

class Transformer;
class Hooks;

// -log p(ids[:, t+1] | ids[:, :t+1]) for every t: logits [B, T, V], ids [B, T]
// -> [B, T-1], computed in at least f32. Differentiable.
at::Tensor next_token_nll(const at::Tensor& logits, const at::Tensor& ids);

struct Continuation {
  std::vector<int64_t> prompt;  // non-empty (usually starts with BOS)
  std::vector<int64_t> target;  // the tokens scored
};

// prompt ++ target, right-padded; target_mask [B, T-1] marks the entries of
// next_token_nll that predict a target token.
struct ContinuationBatch {
  PaddedBatch batch;
  at::Tensor target_mask;
};
ContinuationBatch make_continuation_batch(const std::vector<Continuation>& items);

// Summed target NLL per row, [B], differentiable (hooks may carry deltas).
at::Tensor continuation_nll(Transformer& model, const ContinuationBatch& batch, Hooks* hooks = nullptr);

struct ContinuationScore {
  double sum_nll = 0;     // nats
  double mean_nll = 0;    // sum_nll / num_tokens (0 for an empty target)
  int64_t num_tokens = 0;
};

// Scores every item, batch_size items per forward pass (no gradients).
std::vector<ContinuationScore> score_continuations(Transformer& model, const std::vector<Continuation>& items,
                                                   int64_t batch_size = 8);

}  // namespace revive::model
