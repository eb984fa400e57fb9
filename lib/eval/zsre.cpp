#include "lib/eval/zsre.h"

#include <ATen/ATen.h>

#include "lib/eval/dp_split.h"
#include "lib/eval/target_accuracy.h"
#include "lib/model/prompt_tokens.h"
#include "lib/model/tokenizer.h"
#include "lib/model/transformer.h"

namespace revive::eval {

namespace {
constexpr int64_t kZsreFields = 6;  // edit, rephrase, locality, has_rephrase, has_locality, owned
}  // namespace

MetricList ZsreResult::metrics() const {
  return {{"edit_accuracy", edit_accuracy},
          {"rephrase_accuracy", rephrase_accuracy},
          {"locality_accuracy", locality_accuracy},
          {"num_requests", static_cast<double>(requests.size())},
          {"num_rephrase", static_cast<double>(num_rephrase)},
          {"num_locality", static_cast<double>(num_locality)}};
}

ZsreResult evaluate_zsre(model::Transformer& model, const model::Tokenizer& tokenizer,
                         const std::vector<data::EditRequest>& requests, const ZsreOptions& options,
                         sharding::Communicator* dp) {
  const DpSplit split(dp);
  const std::vector<size_t> mine = split.mine(requests.size());

  struct Slots {
    int64_t edit = -1, rephrase = -1;
    std::vector<int64_t> locality;
  };
  std::vector<model::Continuation> items;
  std::vector<Slots> slots(mine.size());
  auto add = [&](const std::string& prompt, const std::string& target) {
    items.push_back(model::tokenize_continuation(tokenizer, prompt, target));
    return static_cast<int64_t>(items.size()) - 1;
  };
  for (size_t k = 0; k < mine.size(); ++k) {
    const data::EditRequest& r = requests[mine[k]];
    slots[k].edit = add(r.prompt(), r.target_new);
    if (!r.paraphrase_prompts.empty()) slots[k].rephrase = add(r.paraphrase_prompts[0], r.target_new);
    if (!data::is_blank(r.neighborhood_answer())) {
      for (const std::string& p : r.neighborhood_prompts) slots[k].locality.push_back(add(p, r.neighborhood_answer()));
    }
  }
  const std::vector<TargetHits> hits = target_argmax_hits(model, items, options.batch_size);

  const int64_t n = static_cast<int64_t>(requests.size());
  at::Tensor table = at::zeros({n, kZsreFields}, at::kDouble);
  double* rows = table.data_ptr<double>();
  for (size_t k = 0; k < mine.size(); ++k) {
    double* row = rows + static_cast<int64_t>(mine[k]) * kZsreFields;
    row[0] = hits[static_cast<size_t>(slots[k].edit)].accuracy();
    if (slots[k].rephrase >= 0) {
      row[1] = hits[static_cast<size_t>(slots[k].rephrase)].accuracy();
      row[3] = 1;
    }
    if (!slots[k].locality.empty()) {
      TargetHits pooled;
      for (int64_t s : slots[k].locality) {
        pooled.correct += hits[static_cast<size_t>(s)].correct;
        pooled.num_tokens += hits[static_cast<size_t>(s)].num_tokens;
      }
      row[2] = pooled.accuracy();
      row[4] = 1;
    }
    row[5] = 1;
  }
  split.sum(table);

  ZsreResult result;
  double edit = 0, rephrase = 0, locality = 0;
  for (int64_t i = 0; i < n; ++i) {
    const double* row = rows + i * kZsreFields;
    ZsreScores s;
    s.edit_accuracy = row[0];
    s.rephrase_accuracy = row[1];
    s.locality_accuracy = row[2];
    s.has_rephrase = row[3] != 0;
    s.has_locality = row[4] != 0;
    edit += s.edit_accuracy;
    if (s.has_rephrase) {
      rephrase += s.rephrase_accuracy;
      ++result.num_rephrase;
    }
    if (s.has_locality) {
      locality += s.locality_accuracy;
      ++result.num_locality;
    }
    result.requests.push_back(s);
  }
  if (n > 0) result.edit_accuracy = edit / static_cast<double>(n);
  if (result.num_rephrase > 0) result.rephrase_accuracy = rephrase / static_cast<double>(result.num_rephrase);
  if (result.num_locality > 0) result.locality_accuracy = locality / static_cast<double>(result.num_locality);
  return result;
}

}  // namespace revive::eval
