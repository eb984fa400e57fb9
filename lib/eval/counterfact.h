#pragma once
// CounterFact metrics as MEMIT's code computes them (kmeng01/memit,
// experiments/py/eval_utils_counterfact.py and experiments/summarize.py).
// Probabilities are compared through the token-averaged NLL of the (possibly
// multi-token) targets, each tokenised after its prompt with
// model::tokenize_continuation:
//
//   efficacy        [new_nll < true_nll] on the edit prompt
//   generalization  mean over paraphrase prompts of [new_nll < true_nll]
//   specificity     mean over neighbourhood prompts of [answer_nll < new_nll]
//                   (the neighbourhood answer, usually target_true, stays more
//                   probable than target_new)
//   *_magnitude     the same means of exp(-new_nll) - exp(-true_nll) (for
//                   specificity exp(-answer_nll) - exp(-new_nll))
//   fluency         weighted bi/tri-gram entropy (ngram_entropy.h) of texts
//                   generated from the generation prompts (MEMIT: top-k 5
//                   sampling), mean over a request's prompts
//
// Each request gets its scores; a metric's mean is over the requests where it
// applies (efficacy and generalization need target_true; specificity needs
// neighbourhood prompts and an answer; fluency needs generation prompts).
// Every continuation goes through model::score_continuations in batches.
#include <cstdint>
#include <vector>

#include "lib/data/edit_request.h"
#include "lib/eval/metric_list.h"
#include "lib/eval/ngram_entropy.h"
#include "lib/model/generation.h"
#include "lib/model/model_fwd.h"
#include "sharding/comm/communicator_fwd.h"

namespace revive::eval {

// MEMIT's fluency generation: top-k 5 sampling (here 64 new tokens).
inline model::GenerationOptions counterfact_generation_defaults() {
  model::GenerationOptions g;
  g.max_new_tokens = 64;
  g.top_k = 5;
  return g;
}

struct CounterFactOptions {
  int64_t batch_size = 16;
  bool fluency = true;  // generate from generation_prompts (the slow part)
  // Generation for fluency; seed + request index seeds each request, so a
  // request's texts do not depend on how requests are split over ranks.
  model::GenerationOptions generation = counterfact_generation_defaults();
  NgramEntropyOptions ngram;
};

struct CounterFactScores {
  double new_nll = 0, true_nll = 0;  // token-averaged, on the edit prompt
  double efficacy = 0, efficacy_magnitude = 0;              // valid when has_true
  double generalization = 0, generalization_magnitude = 0;  // valid when num_paraphrases > 0
  double specificity = 0, specificity_magnitude = 0;        // valid when num_neighbors > 0
  double fluency = 0;                                       // valid when num_generations > 0
  bool has_true = false;
  int64_t num_paraphrases = 0, num_neighbors = 0, num_generations = 0;
};

struct CounterFactResult {
  std::vector<CounterFactScores> requests;  // every request, in input order, on every rank
  double efficacy = 0, efficacy_magnitude = 0;
  double generalization = 0, generalization_magnitude = 0;
  double specificity = 0, specificity_magnitude = 0;
  double fluency = 0;
  int64_t num_efficacy = 0, num_generalization = 0, num_specificity = 0, num_fluency = 0;

  // efficacy, generalization, specificity, their magnitudes, fluency (when
  // measured) and the request counts.
  MetricList metrics() const;
};

// Evaluates every request (rank r of `dp` takes requests r, r + dp, ...; the
// result is complete and identical on every rank).
CounterFactResult evaluate_counterfact(model::Transformer& model, const model::Tokenizer& tokenizer,
                                       const std::vector<data::EditRequest>& requests,
                                       const CounterFactOptions& options = {}, sharding::Communicator* dp = nullptr);

// The means of a result's per-request scores (used by evaluate_counterfact;
// exposed for tests).
void summarize_counterfact(CounterFactResult& result);

}  // namespace revive::eval
