// CounterFact metrics on the bigram model, whose log-probabilities the test
// reads off its table: every score is recomputed here from the table.
#include <gtest/gtest.h>

#include <cmath>

#include "lib/eval/counterfact.h"
#include "lib/model/generation.h"
#include "lib/model/prompt_tokens.h"
#include "tests/eval/bigram_model.h"
#include "tests/eval/eval_requests.h"

namespace revive::eval {
namespace {

using testing::BigramModel;

// Token-averaged NLL of `target` after `prompt`, from the table.
double cf_test_mean_nll(const BigramModel& m, const std::string& prompt, const std::string& target) {
  const model::Continuation c = model::tokenize_continuation(m.tokenizer, prompt, target);
  return m.nll(c.prompt, c.target) / static_cast<double>(c.target.size());
}

std::unique_ptr<BigramModel> cf_test_model() {
  return testing::make_bigram_model_with(11, [](BigramModel& m) {
    // alice: "new york" far more likely than "paris" after "in" -> efficacy 1;
    // neighbours ending in "in" then prefer new york too -> that prompt fails specificity.
    m.table[m.id("in")][m.id("new")] = 5;
    m.table[m.id("new")][m.id("york")] = 5;
    m.table[m.id("in")][m.id("paris")] = -5;
    // bob: "doctor" stays more likely than "chef" after "as" -> efficacy 0.
    m.table[m.id("as")][m.id("chef")] = -5;
    m.table[m.id("as")][m.id("doctor")] = 5;
  });
}

TEST(CounterFact, ScoresFollowTheTable) {
  auto m = cf_test_model();
  const auto requests = testing::bigram_requests();
  CounterFactOptions opts;
  opts.batch_size = 3;
  opts.generation.top_k = 1;
  opts.generation.max_new_tokens = 6;
  const CounterFactResult r = evaluate_counterfact(*m->model, m->tokenizer, requests, opts);
  ASSERT_EQ(r.requests.size(), requests.size());

  EXPECT_EQ(r.requests[0].efficacy, 1.0);
  EXPECT_EQ(r.requests[1].efficacy, 0.0);
  for (size_t i = 0; i < requests.size(); ++i) {
    const data::EditRequest& q = requests[i];
    const CounterFactScores& s = r.requests[i];
    SCOPED_TRACE("request " + std::to_string(i));
    const double nn = cf_test_mean_nll(*m, q.prompt(), q.target_new);
    EXPECT_NEAR(s.new_nll, nn, 1e-9);
    EXPECT_EQ(s.has_true, !q.target_true.empty());
    if (s.has_true) {
      const double nt = cf_test_mean_nll(*m, q.prompt(), q.target_true);
      EXPECT_NEAR(s.true_nll, nt, 1e-9);
      EXPECT_EQ(s.efficacy, nn < nt ? 1.0 : 0.0);
      EXPECT_NEAR(s.efficacy_magnitude, std::exp(-nn) - std::exp(-nt), 1e-9);
      double gen = 0, gen_m = 0;
      for (const std::string& p : q.paraphrase_prompts) {
        const double a = cf_test_mean_nll(*m, p, q.target_new), b = cf_test_mean_nll(*m, p, q.target_true);
        gen += a < b ? 1 : 0;
        gen_m += std::exp(-a) - std::exp(-b);
      }
      EXPECT_EQ(s.num_paraphrases, static_cast<int64_t>(q.paraphrase_prompts.size()));
      if (!q.paraphrase_prompts.empty()) {
        EXPECT_DOUBLE_EQ(s.generalization, gen / static_cast<double>(q.paraphrase_prompts.size()));
        EXPECT_NEAR(s.generalization_magnitude, gen_m / static_cast<double>(q.paraphrase_prompts.size()), 1e-9);
      }
    }
    double spec = 0, spec_m = 0;
    for (const std::string& p : q.neighborhood_prompts) {
      const double a = cf_test_mean_nll(*m, p, q.neighborhood_answer()), b = cf_test_mean_nll(*m, p, q.target_new);
      spec += a < b ? 1 : 0;
      spec_m += std::exp(-a) - std::exp(-b);
    }
    EXPECT_EQ(s.num_neighbors, static_cast<int64_t>(q.neighborhood_prompts.size()));
    if (!q.neighborhood_prompts.empty()) {
      EXPECT_DOUBLE_EQ(s.specificity, spec / static_cast<double>(q.neighborhood_prompts.size()));
      EXPECT_NEAR(s.specificity_magnitude, spec_m / static_cast<double>(q.neighborhood_prompts.size()), 1e-9);
    }
    // Fluency: greedy continuation along the table's row argmaxes.
    std::vector<std::string> texts;
    for (const std::string& p : q.generation_prompts) {
      std::vector<int64_t> ids = m->tokenizer.encode(p, true);
      for (int k = 0; k < 6; ++k) ids.push_back(m->argmax(ids.back()));
      texts.push_back(m->tokenizer.decode(ids, true));
    }
    EXPECT_EQ(s.num_generations, static_cast<int64_t>(texts.size()));
    EXPECT_NEAR(s.fluency, mean_ngram_entropy(texts), 1e-12);
  }
  // alice's first neighbour ("bob lives in") prefers new york: specificity <= 1/2.
  EXPECT_LE(r.requests[0].specificity, 0.5);

  // Means over the requests where each metric applies.
  EXPECT_EQ(r.num_efficacy, 3);
  EXPECT_EQ(r.num_generalization, 2);
  EXPECT_EQ(r.num_specificity, 3);
  EXPECT_EQ(r.num_fluency, 2);
  EXPECT_NEAR(r.efficacy, (r.requests[0].efficacy + r.requests[1].efficacy + r.requests[3].efficacy) / 3, 1e-15);
  EXPECT_NEAR(r.generalization, (r.requests[0].generalization + r.requests[1].generalization) / 2, 1e-15);
  EXPECT_NEAR(r.specificity,
              (r.requests[0].specificity + r.requests[1].specificity + r.requests[2].specificity) / 3, 1e-15);
  EXPECT_NEAR(r.fluency, (r.requests[0].fluency + r.requests[2].fluency) / 2, 1e-15);
  const MetricList metrics = r.metrics();
  ASSERT_FALSE(metrics.empty());
  EXPECT_EQ(metrics.front().first, "efficacy");
}

TEST(CounterFact, BatchSizeAndFluencySwitchDoNotChangeScores) {
  auto m = cf_test_model();
  const auto requests = testing::bigram_requests();
  CounterFactOptions one;
  one.batch_size = 1;
  one.fluency = false;
  CounterFactOptions many;
  many.batch_size = 64;
  many.fluency = false;
  const CounterFactResult a = evaluate_counterfact(*m->model, m->tokenizer, requests, one);
  const CounterFactResult b = evaluate_counterfact(*m->model, m->tokenizer, requests, many);
  for (size_t i = 0; i < requests.size(); ++i) {
    EXPECT_NEAR(a.requests[i].new_nll, b.requests[i].new_nll, 1e-9);
    EXPECT_EQ(a.requests[i].efficacy, b.requests[i].efficacy);
    EXPECT_EQ(a.requests[i].num_generations, 0);
  }
  EXPECT_EQ(a.num_fluency, 0);
  EXPECT_DOUBLE_EQ(a.specificity, b.specificity);
}

TEST(CounterFact, SummaryOfHandWrittenScores) {
  CounterFactResult r;
  CounterFactScores s1, s2, s3;
  s1.has_true = true;
  s1.efficacy = 1;
  s1.efficacy_magnitude = 0.5;
  s1.num_paraphrases = 2;
  s1.generalization = 0.5;
  s2.has_true = true;
  s2.efficacy = 0;
  s2.efficacy_magnitude = -0.1;
  s2.num_neighbors = 4;
  s2.specificity = 0.75;
  s3.num_neighbors = 1;
  s3.specificity = 0.25;
  r.requests = {s1, s2, s3};
  summarize_counterfact(r);
  EXPECT_DOUBLE_EQ(r.efficacy, 0.5);
  EXPECT_DOUBLE_EQ(r.efficacy_magnitude, 0.2);
  EXPECT_DOUBLE_EQ(r.generalization, 0.5);
  EXPECT_EQ(r.num_generalization, 1);
  EXPECT_DOUBLE_EQ(r.specificity, 0.5);
  EXPECT_EQ(r.num_fluency, 0);
}

}  // namespace
}  // namespace revive::eval
