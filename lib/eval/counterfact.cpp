#include "lib/eval/counterfact.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <cmath>

#include "lib/eval/dp_split.h"
#include "lib/model/log_probs.h"
#include "lib/model/prompt_tokens.h"
#include "lib/model/tokenizer.h"
#include "lib/model/transformer.h"
#include "sharding/errors.h"

namespace revive::eval {

namespace {

// Per-request scores as one f64 row, so rows can be summed over dp ranks (each
// request's row is non-zero on exactly one rank).
constexpr int64_t kCfFields = 14;

void cf_pack(const CounterFactScores& s, double* row) {
  const double v[kCfFields] = {s.new_nll, s.true_nll, s.efficacy, s.efficacy_magnitude, s.generalization,
                               s.generalization_magnitude, s.specificity, s.specificity_magnitude, s.fluency,
                               s.has_true ? 1.0 : 0.0, static_cast<double>(s.num_paraphrases),
                               static_cast<double>(s.num_neighbors), static_cast<double>(s.num_generations), 1.0};
  std::copy(v, v + kCfFields, row);
}

CounterFactScores cf_unpack(const double* row) {
  CounterFactScores s;
  s.new_nll = row[0];
  s.true_nll = row[1];
  s.efficacy = row[2];
  s.efficacy_magnitude = row[3];
  s.generalization = row[4];
  s.generalization_magnitude = row[5];
  s.specificity = row[6];
  s.specificity_magnitude = row[7];
  s.fluency = row[8];
  s.has_true = row[9] != 0.0;
  s.num_paraphrases = static_cast<int64_t>(std::llround(row[10]));
  s.num_neighbors = static_cast<int64_t>(std::llround(row[11]));
  s.num_generations = static_cast<int64_t>(std::llround(row[12]));
  return s;
}

// Indices into the scored continuation list for one request; -1: not scored.
struct CfSlots {
  int64_t edit_new = -1, edit_true = -1;
  std::vector<std::pair<int64_t, int64_t>> paraphrase;  // (new, true)
  std::vector<std::pair<int64_t, int64_t>> neighbor;    // (answer, new)
};

}  // namespace

MetricList CounterFactResult::metrics() const {
  MetricList m = {{"efficacy", efficacy},
                  {"efficacy_magnitude", efficacy_magnitude},
                  {"generalization", generalization},
                  {"generalization_magnitude", generalization_magnitude},
                  {"specificity", specificity},
                  {"specificity_magnitude", specificity_magnitude}};
  if (num_fluency > 0) m.emplace_back("fluency", fluency);
  m.emplace_back("num_requests", static_cast<double>(requests.size()));
  m.emplace_back("num_efficacy", static_cast<double>(num_efficacy));
  m.emplace_back("num_generalization", static_cast<double>(num_generalization));
  m.emplace_back("num_specificity", static_cast<double>(num_specificity));
  if (num_fluency > 0) m.emplace_back("num_fluency", static_cast<double>(num_fluency));
  return m;
}

void summarize_counterfact(CounterFactResult& r) {
  double eff = 0, eff_m = 0, gen = 0, gen_m = 0, spec = 0, spec_m = 0, flu = 0;
  r.num_efficacy = r.num_generalization = r.num_specificity = r.num_fluency = 0;
  for (const CounterFactScores& s : r.requests) {
    if (s.has_true) {
      eff += s.efficacy;
      eff_m += s.efficacy_magnitude;
      ++r.num_efficacy;
    }
    if (s.has_true && s.num_paraphrases > 0) {
      gen += s.generalization;
      gen_m += s.generalization_magnitude;
      ++r.num_generalization;
    }
    if (s.num_neighbors > 0) {
      spec += s.specificity;
      spec_m += s.specificity_magnitude;
      ++r.num_specificity;
    }
    if (s.num_generations > 0) {
      flu += s.fluency;
      ++r.num_fluency;
    }
  }
  auto mean = [](double sum, int64_t n) { return n > 0 ? sum / static_cast<double>(n) : 0.0; };
  r.efficacy = mean(eff, r.num_efficacy);
  r.efficacy_magnitude = mean(eff_m, r.num_efficacy);
  r.generalization = mean(gen, r.num_generalization);
  r.generalization_magnitude = mean(gen_m, r.num_generalization);
  r.specificity = mean(spec, r.num_specificity);
  r.specificity_magnitude = mean(spec_m, r.num_specificity);
  r.fluency = mean(flu, r.num_fluency);
}

CounterFactResult evaluate_counterfact(model::Transformer& model, const model::Tokenizer& tokenizer,
                                       const std::vector<data::EditRequest>& requests,
                                       const CounterFactOptions& options, sharding::Communicator* dp) {
  const DpSplit split(dp);
  const std::vector<size_t> mine = split.mine(requests.size());

  // 1. Every continuation of this rank's requests, scored in one batched pass.
  std::vector<model::Continuation> items;
  std::vector<CfSlots> slots(mine.size());
  auto add = [&](const std::string& prompt, const std::string& target) {
    items.push_back(model::tokenize_continuation(tokenizer, prompt, target));
    return static_cast<int64_t>(items.size()) - 1;
  };
  for (size_t k = 0; k < mine.size(); ++k) {
    const data::EditRequest& r = requests[mine[k]];
    CfSlots& s = slots[k];
    const bool has_true = !data::is_blank(r.target_true);
    const std::string prompt = r.prompt();
    s.edit_new = add(prompt, r.target_new);
    if (has_true) {
      s.edit_true = add(prompt, r.target_true);
      for (const std::string& p : r.paraphrase_prompts) s.paraphrase.emplace_back(add(p, r.target_new), add(p, r.target_true));
    }
    const std::string& answer = r.neighborhood_answer();
    if (!data::is_blank(answer)) {
      for (const std::string& p : r.neighborhood_prompts) s.neighbor.emplace_back(add(p, answer), add(p, r.target_new));
    }
  }
  const std::vector<model::ContinuationScore> scores = model::score_continuations(model, items, options.batch_size);
  auto nll = [&](int64_t slot) { return scores[static_cast<size_t>(slot)].mean_nll; };

  // 2. Per-request scores (rows of the requests this rank does not own stay 0).
  const int64_t n = static_cast<int64_t>(requests.size());
  at::Tensor table = at::zeros({n, kCfFields}, at::kDouble);
  double* base = table.data_ptr<double>();
  for (size_t k = 0; k < mine.size(); ++k) {
    const data::EditRequest& r = requests[mine[k]];
    const CfSlots& sl = slots[k];
    CounterFactScores s;
    s.new_nll = nll(sl.edit_new);
    if (sl.edit_true >= 0) {
      s.has_true = true;
      s.true_nll = nll(sl.edit_true);
      s.efficacy = s.new_nll < s.true_nll ? 1.0 : 0.0;
      s.efficacy_magnitude = std::exp(-s.new_nll) - std::exp(-s.true_nll);
    }
    for (const auto& [pn, pt] : sl.paraphrase) {
      s.generalization += nll(pn) < nll(pt) ? 1.0 : 0.0;
      s.generalization_magnitude += std::exp(-nll(pn)) - std::exp(-nll(pt));
    }
    s.num_paraphrases = static_cast<int64_t>(sl.paraphrase.size());
    if (s.num_paraphrases > 0) {
      s.generalization /= static_cast<double>(s.num_paraphrases);
      s.generalization_magnitude /= static_cast<double>(s.num_paraphrases);
    }
    for (const auto& [na, nn] : sl.neighbor) {
      s.specificity += nll(na) < nll(nn) ? 1.0 : 0.0;
      s.specificity_magnitude += std::exp(-nll(na)) - std::exp(-nll(nn));
    }
    s.num_neighbors = static_cast<int64_t>(sl.neighbor.size());
    if (s.num_neighbors > 0) {
      s.specificity /= static_cast<double>(s.num_neighbors);
      s.specificity_magnitude /= static_cast<double>(s.num_neighbors);
    }
    // 3. Fluency of generations from this request's generation prompts.
    if (options.fluency && !r.generation_prompts.empty()) {
      std::vector<std::vector<int64_t>> prompts;
      for (const std::string& p : r.generation_prompts) prompts.push_back(tokenizer.encode(p, true));
      model::GenerationOptions gen = options.generation;
      gen.seed = options.generation.seed + static_cast<uint64_t>(mine[k]);
      const auto outs = model::generate(model, prompts, gen);
      std::vector<std::string> texts;
      for (size_t g = 0; g < outs.size(); ++g) {
        std::vector<int64_t> all = prompts[g];
        all.insert(all.end(), outs[g].begin(), outs[g].end());
        texts.push_back(tokenizer.decode(all, /*skip_special=*/true));
      }
      s.fluency = mean_ngram_entropy(texts, options.ngram);
      s.num_generations = static_cast<int64_t>(texts.size());
    }
    cf_pack(s, base + static_cast<int64_t>(mine[k]) * kCfFields);
  }

  // 4. Every rank gets every row, then the same means.
  split.sum(table);
  CounterFactResult result;
  result.requests.reserve(requests.size());
  const double* rows = table.data_ptr<double>();
  for (int64_t i = 0; i < n; ++i) {
    REVIVE_CHECK(rows[i * kCfFields + kCfFields - 1] == 1.0, "counterfact: request evaluated by no rank or twice");
    result.requests.push_back(cf_unpack(rows + i * kCfFields));
  }
  summarize_counterfact(result);
  return result;
}

}  // namespace revive::eval
