// zsRE token accuracy and fact recall on the bigram model: the teacher-forced
// argmax of each target token is read off the table.
#include <gtest/gtest.h>

#include "lib/eval/recall.h"
#include "lib/eval/target_accuracy.h"
#include "lib/eval/zsre.h"
#include "lib/model/prompt_tokens.h"
#include "tests/eval/bigram_model.h"
#include "tests/eval/eval_requests.h"

namespace revive::eval {
namespace {

using testing::BigramModel;

// (correct, tokens) of `target` after `prompt` from the table's row argmaxes.
TargetHits zsre_test_hits(const BigramModel& m, const std::string& prompt, const std::string& target) {
  const model::Continuation c = model::tokenize_continuation(m.tokenizer, prompt, target);
  TargetHits h;
  int64_t prev = c.prompt.back();
  for (int64_t t : c.target) {
    h.correct += m.argmax(prev) == t ? 1 : 0;
    ++h.num_tokens;
    prev = t;
  }
  return h;
}

std::unique_ptr<BigramModel> zsre_test_model() {
  return testing::make_bigram_model_with(5, [](BigramModel& m) {
    m.table[m.id("in")][m.id("new")] = 9;   // "... in" -> new (right)
    m.table[m.id("new")][m.id("rome")] = 9; // new -> rome (wrong for "new york")
    m.table[m.id("is")][m.id("london")] = 9;
    m.table[m.id("as")][m.id("doctor")] = 9;
    m.table[m.id("a")][m.id("pilot")] = 9;
  });
}

TEST(TargetAccuracy, CountsArgmaxTokens) {
  auto m = zsre_test_model();
  const std::vector<model::Continuation> items = {
      model::tokenize_continuation(m->tokenizer, "alice lives in", "new york"),
      model::tokenize_continuation(m->tokenizer, "alice lives in", "new rome"),
      model::tokenize_continuation(m->tokenizer, "bob works as", "doctor"),
      model::tokenize_continuation(m->tokenizer, "bob works as", "chef")};
  const auto hits = target_argmax_hits(*m->model, items, 3);
  ASSERT_EQ(hits.size(), 4u);
  EXPECT_EQ(hits[0].correct, 1);
  EXPECT_EQ(hits[0].num_tokens, 2);
  EXPECT_FALSE(hits[0].all_correct());
  EXPECT_DOUBLE_EQ(hits[0].accuracy(), 0.5);
  EXPECT_TRUE(hits[1].all_correct());
  EXPECT_TRUE(hits[2].all_correct());
  EXPECT_EQ(hits[3].correct, 0);
}

TEST(Zsre, TokenAccuraciesFollowTheTable) {
  auto m = zsre_test_model();
  const auto requests = testing::bigram_requests();
  const ZsreResult r = evaluate_zsre(*m->model, m->tokenizer, requests, ZsreOptions{2});
  ASSERT_EQ(r.requests.size(), requests.size());
  double edit = 0, rephrase = 0, locality = 0;
  int64_t n_rephrase = 0, n_locality = 0;
  for (size_t i = 0; i < requests.size(); ++i) {
    const data::EditRequest& q = requests[i];
    SCOPED_TRACE("request " + std::to_string(i));
    const double e = zsre_test_hits(*m, q.prompt(), q.target_new).accuracy();
    EXPECT_DOUBLE_EQ(r.requests[i].edit_accuracy, e);
    edit += e;
    EXPECT_EQ(r.requests[i].has_rephrase, !q.paraphrase_prompts.empty());
    if (!q.paraphrase_prompts.empty()) {
      const double p = zsre_test_hits(*m, q.paraphrase_prompts[0], q.target_new).accuracy();
      EXPECT_DOUBLE_EQ(r.requests[i].rephrase_accuracy, p);
      rephrase += p;
      ++n_rephrase;
    }
    if (!q.neighborhood_prompts.empty()) {
      TargetHits pooled;
      for (const std::string& p : q.neighborhood_prompts) {
        const TargetHits h = zsre_test_hits(*m, p, q.neighborhood_answer());
        pooled.correct += h.correct;
        pooled.num_tokens += h.num_tokens;
      }
      EXPECT_DOUBLE_EQ(r.requests[i].locality_accuracy, pooled.accuracy());
      locality += pooled.accuracy();
      ++n_locality;
    }
  }
  // Request 0: "alice lives in" -> "new york": new right, york wrong.
  EXPECT_DOUBLE_EQ(r.requests[0].edit_accuracy, 0.5);
  EXPECT_DOUBLE_EQ(r.requests[2].edit_accuracy, 1.0);  // "the city carol is" -> london
  EXPECT_NEAR(r.edit_accuracy, edit / 4, 1e-15);
  EXPECT_NEAR(r.rephrase_accuracy, rephrase / static_cast<double>(n_rephrase), 1e-15);
  EXPECT_NEAR(r.locality_accuracy, locality / static_cast<double>(n_locality), 1e-15);
  EXPECT_EQ(r.num_rephrase, n_rephrase);
  EXPECT_EQ(r.num_locality, n_locality);
}

TEST(Recall, EveryAnswerTokenMustBeTheArgmax) {
  auto m = zsre_test_model();
  const std::vector<FactQuery> facts = {{"alice lives in", "new rome"},  // both argmax
                                        {"alice lives in", "new york"},  // one of two
                                        {"bob works as", "doctor"},      // argmax
                                        {"dave is a", "chef"}};          // not
  const RecallResult r = evaluate_recall(*m->model, m->tokenizer, facts, RecallOptions{3});
  EXPECT_EQ(r.num_facts, 4);
  EXPECT_EQ(r.num_recalled, 2);
  EXPECT_DOUBLE_EQ(r.accuracy, 0.5);
  EXPECT_EQ(r.num_tokens, 6);
  EXPECT_EQ(r.correct_tokens, 4);
  EXPECT_DOUBLE_EQ(r.token_accuracy, 4.0 / 6.0);

  const auto requests = testing::bigram_requests();
  EXPECT_EQ(true_facts(requests).size(), 3u);  // request 2 has no true answer
  EXPECT_EQ(true_facts(requests)[1].answer, "doctor");
  EXPECT_EQ(new_facts(requests).size(), 4u);
  EXPECT_EQ(new_facts(requests)[0].prompt, "alice lives in");
}

}  // namespace
}  // namespace revive::eval
