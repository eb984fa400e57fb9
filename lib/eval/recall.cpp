#include "lib/eval/recall.h"

#include <ATen/ATen.h>

#include "lib/eval/dp_split.h"
#include "lib/eval/target_accuracy.h"
#include "lib/model/prompt_tokens.h"
#include "lib/model/tokenizer.h"
#include "lib/model/transformer.h"

namespace revive::eval {

std::vector<FactQuery> true_facts(const std::vector<data::EditRequest>& requests) {
  std::vector<FactQuery> out;
  for (const data::EditRequest& r : requests) {
    if (!data::is_blank(r.target_true)) out.push_back({r.prompt(), r.target_true});
  }
  return out;
}

std::vector<FactQuery> new_facts(const std::vector<data::EditRequest>& requests) {
  std::vector<FactQuery> out;
  for (const data::EditRequest& r : requests) out.push_back({r.prompt(), r.target_new});
  return out;
}

MetricList RecallResult::metrics() const {
  return {{"recall", accuracy},
          {"recall_token_accuracy", token_accuracy},
          {"num_facts", static_cast<double>(num_facts)}};
}

RecallResult evaluate_recall(model::Transformer& model, const model::Tokenizer& tokenizer,
                             const std::vector<FactQuery>& facts, const RecallOptions& options,
                             sharding::Communicator* dp) {
  const DpSplit split(dp);
  std::vector<model::Continuation> items;
  for (size_t i : split.mine(facts.size())) {
    items.push_back(model::tokenize_continuation(tokenizer, facts[i].prompt, facts[i].answer));
  }
  at::Tensor sums = at::zeros({3}, at::kLong);  // recalled, correct tokens, tokens
  for (const TargetHits& h : target_argmax_hits(model, items, options.batch_size)) {
    sums[0] += h.all_correct() ? 1 : 0;
    sums[1] += h.correct;
    sums[2] += h.num_tokens;
  }
  split.sum(sums);
  RecallResult r;
  r.num_facts = static_cast<int64_t>(facts.size());
  r.num_recalled = sums[0].item<int64_t>();
  r.correct_tokens = sums[1].item<int64_t>();
  r.num_tokens = sums[2].item<int64_t>();
  if (r.num_facts > 0) r.accuracy = static_cast<double>(r.num_recalled) / static_cast<double>(r.num_facts);
  if (r.num_tokens > 0) r.token_accuracy = static_cast<double>(r.correct_tokens) / static_cast<double>(r.num_tokens);
  return r;
}

}  // namespace revive::eval
