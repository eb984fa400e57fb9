// Every evaluation split over real dp ranks returns, on every rank, the result
// of a single process evaluating everything.
#include <gtest/gtest.h>

#include <fstream>

#include "lib/eval/choice_tasks.h"
#include "lib/eval/counterfact.h"
#include "lib/eval/perplexity.h"
#include "lib/eval/recall.h"
#include "lib/eval/zsre.h"
#include "tests/eval/bigram_model.h"
#include "tests/eval/eval_requests.h"
#include "tests/support/test_world.h"

namespace revive::eval {
namespace {

// The four bigram requests repeated with other subjects: 11 requests, so no
// rank count divides them evenly.
std::vector<data::EditRequest> dp_test_requests() {
  const auto base = testing::bigram_requests();
  const std::vector<std::string> subjects = {"alice", "bob", "carol", "dave"};
  std::vector<data::EditRequest> out;
  for (size_t i = 0; i < 11; ++i) {
    data::EditRequest r = base[i % base.size()];
    r.subject = subjects[(i / base.size() + i) % subjects.size()];
    out.push_back(r);
  }
  return out;
}

TEST(EvalDp, CounterFactEqualsSingleProcess) {
  auto& world = revive::testing::world();
  auto m = testing::make_bigram_model(21, "dp-cf");
  const auto requests = dp_test_requests();
  CounterFactOptions opts;
  opts.batch_size = 4;
  opts.generation.max_new_tokens = 5;  // top-k 5 sampling, seeded per request
  const CounterFactResult split = evaluate_counterfact(*m->model, m->tokenizer, requests, opts, &world);
  const CounterFactResult single = evaluate_counterfact(*m->model, m->tokenizer, requests, opts, nullptr);
  ASSERT_EQ(split.requests.size(), single.requests.size());
  for (size_t i = 0; i < requests.size(); ++i) {
    SCOPED_TRACE("request " + std::to_string(i));
    EXPECT_NEAR(split.requests[i].new_nll, single.requests[i].new_nll, 1e-9);
    EXPECT_EQ(split.requests[i].efficacy, single.requests[i].efficacy);
    EXPECT_EQ(split.requests[i].specificity, single.requests[i].specificity);
    EXPECT_DOUBLE_EQ(split.requests[i].fluency, single.requests[i].fluency);
    EXPECT_EQ(split.requests[i].num_generations, single.requests[i].num_generations);
  }
  EXPECT_DOUBLE_EQ(split.efficacy, single.efficacy);
  EXPECT_DOUBLE_EQ(split.generalization, single.generalization);
  EXPECT_DOUBLE_EQ(split.specificity, single.specificity);
  EXPECT_NEAR(split.fluency, single.fluency, 1e-12);
  EXPECT_GT(split.num_fluency, 0);
}

TEST(EvalDp, ZsreRecallAndChoicesEqualSingleProcess) {
  auto& world = revive::testing::world();
  auto m = testing::make_bigram_model(22, "dp-zsre");
  const auto requests = dp_test_requests();
  const ZsreResult zs = evaluate_zsre(*m->model, m->tokenizer, requests, {}, &world);
  const ZsreResult z1 = evaluate_zsre(*m->model, m->tokenizer, requests, {}, nullptr);
  for (size_t i = 0; i < requests.size(); ++i) {
    EXPECT_DOUBLE_EQ(zs.requests[i].edit_accuracy, z1.requests[i].edit_accuracy);
    EXPECT_DOUBLE_EQ(zs.requests[i].locality_accuracy, z1.requests[i].locality_accuracy);
  }
  EXPECT_DOUBLE_EQ(zs.edit_accuracy, z1.edit_accuracy);
  EXPECT_DOUBLE_EQ(zs.rephrase_accuracy, z1.rephrase_accuracy);
  EXPECT_DOUBLE_EQ(zs.locality_accuracy, z1.locality_accuracy);

  const auto facts = new_facts(requests);
  const RecallResult rs = evaluate_recall(*m->model, m->tokenizer, facts, {}, &world);
  const RecallResult r1 = evaluate_recall(*m->model, m->tokenizer, facts, {}, nullptr);
  EXPECT_EQ(rs.num_recalled, r1.num_recalled);
  EXPECT_EQ(rs.correct_tokens, r1.correct_tokens);
  EXPECT_EQ(rs.num_tokens, r1.num_tokens);

  std::vector<ChoiceTask> tasks;
  for (size_t i = 0; i < requests.size(); ++i) {
    tasks.push_back({requests[i].prompt(), {"paris", "rome", "new york"}, static_cast<int64_t>(i % 3)});
  }
  const ChoiceResult cs = evaluate_choices(*m->model, m->tokenizer, tasks, {}, &world);
  const ChoiceResult c1 = evaluate_choices(*m->model, m->tokenizer, tasks, {}, nullptr);
  EXPECT_EQ(cs.predictions, c1.predictions);
  EXPECT_EQ(cs.confusion, c1.confusion);
  EXPECT_DOUBLE_EQ(cs.macro_f1, c1.macro_f1);
}

TEST(EvalDp, PerplexityEqualsSingleProcess) {
  auto& world = revive::testing::world();
  auto m = testing::make_bigram_model(23, "dp-ppl");
  std::vector<std::string> docs;
  const auto words = testing::bigram_words();
  for (size_t d = 0; d < 9; ++d) {
    std::string text;
    for (size_t k = 0; k < 3 + 2 * d; ++k) text += (k ? " " : "") + words[(d * 7 + k * 3) % words.size()];
    docs.push_back(text);
  }
  PerplexityOptions opts;
  opts.max_length = 6;
  const PerplexityResult ps = evaluate_perplexity(*m->model, m->tokenizer, docs, opts, &world);
  const PerplexityResult p1 = evaluate_perplexity(*m->model, m->tokenizer, docs, opts, nullptr);
  EXPECT_EQ(ps.num_tokens, p1.num_tokens);
  EXPECT_EQ(ps.num_documents, 9);
  EXPECT_EQ(ps.num_windows, p1.num_windows);
  EXPECT_NEAR(ps.total_nll, p1.total_nll, 1e-10 * p1.total_nll);

  // The streamed file form shards documents the same way.
  const std::string path = ::revive::testing::temp_dir("dp-ppl-file") + "/c.txt";
  {
    std::ofstream out(path);
    for (const std::string& d : docs) out << d << "\n";
  }
  data::CorpusOptions lines;
  lines.split = data::DocumentSplit::kLines;
  const PerplexityResult fs = evaluate_perplexity_file(*m->model, m->tokenizer, path, lines, opts, &world);
  EXPECT_EQ(fs.num_tokens, p1.num_tokens);
  EXPECT_NEAR(fs.total_nll, p1.total_nll, 1e-10 * p1.total_nll);
}

}  // namespace
}  // namespace revive::eval
