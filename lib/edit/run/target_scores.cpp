#include "lib/edit/run/target_scores.h"

#include <cmath>

#include "lib/model/log_probs.h"
#include "lib/model/prompt_tokens.h"

namespace revive::edit {

TargetScores score_targets(model::Transformer& model, const model::Tokenizer& tokenizer,
                           const std::vector<data::EditRequest>& requests) {
  // One list, target_new then target_true per request, 32 per forward pass: the
  // order and batching the runner has always scored with, so figures stay the same.
  std::vector<model::Continuation> items;
  std::vector<bool> has_true;
  for (const data::EditRequest& r : requests) {
    const std::string prompt = r.prompt();
    items.push_back(model::tokenize_continuation(tokenizer, prompt, r.target_new));
    has_true.push_back(!data::is_blank(r.target_true));
    if (has_true.back()) items.push_back(model::tokenize_continuation(tokenizer, prompt, r.target_true));
  }
  const std::vector<model::ContinuationScore> s = model::score_continuations(model, items, 32);
  TargetScores out;
  size_t k = 0;
  for (size_t i = 0; i < requests.size(); ++i) {
    out.nll_new.push_back(s[k++].mean_nll);
    out.nll_true.push_back(has_true[i] ? std::optional<double>(s[k++].mean_nll) : std::nullopt);
  }
  return out;
}

double efficacy(const TargetScores& scores) {
  if (scores.nll_new.empty()) return 0.0;
  int64_t ok = 0;
  for (size_t i = 0; i < scores.nll_new.size(); ++i) {
    const double bar = scores.nll_true[i] ? *scores.nll_true[i] : std::log(2.0);
    ok += scores.nll_new[i] < bar ? 1 : 0;
  }
  return static_cast<double>(ok) / static_cast<double>(scores.nll_new.size());
}

}  // namespace revive::edit
