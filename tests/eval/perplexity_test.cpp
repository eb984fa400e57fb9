// Perplexity = exp(total NLL / predicted tokens), against next_token_nll of a
// direct forward pass, and the windowing rule (every token but BOS once).
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>

#include "lib/eval/perplexity.h"
#include "lib/model/log_probs.h"
#include "tests/eval/bigram_model.h"
#include "tests/support/fixtures.h"

namespace revive::eval {
namespace {

const std::vector<std::string>& ppl_test_documents() {
  static const std::vector<std::string> docs = {
      "alice lives in new york and bob lives in paris .", "carol is a doctor", "dave",
      "the city is rome and the city is london and the city is paris . bob works as a chef ."};
  return docs;
}

// Sum of next_token_nll over the whole document, one unpadded forward each.
std::pair<double, int64_t> ppl_test_direct(testing::BigramModel& m, const std::vector<std::string>& docs) {
  double sum = 0;
  int64_t count = 0;
  for (const std::string& d : docs) {
    const std::vector<int64_t> ids = m.tokenizer.encode(d, true);
    if (ids.size() < 2) continue;
    const at::Tensor x = at::tensor(ids, at::kLong).view({1, -1});
    sum += model::next_token_nll(m.model->forward(x), x).sum().item<double>();
    count += static_cast<int64_t>(ids.size()) - 1;
  }
  return {sum, count};
}

TEST(PerplexityWindows, EveryTokenButTheFirstIsPredictedOnce) {
  const std::vector<int64_t> ids = {10, 11, 12, 13, 14, 15, 16};
  const auto w = perplexity_windows(ids, 3, false);
  ASSERT_EQ(w.size(), 3u);
  EXPECT_EQ(w[0].prompt, std::vector<int64_t>{10});
  EXPECT_EQ(w[0].target, (std::vector<int64_t>{11, 12}));
  EXPECT_EQ(w[1].prompt, std::vector<int64_t>{12});
  EXPECT_EQ(w[1].target, (std::vector<int64_t>{13, 14}));
  EXPECT_EQ(w[2].target, (std::vector<int64_t>{15, 16}));
  const auto t = perplexity_windows(ids, 4, true);
  ASSERT_EQ(t.size(), 1u);
  EXPECT_EQ(t[0].target, (std::vector<int64_t>{11, 12, 13}));
  EXPECT_EQ(perplexity_windows({10, 11, 12, 13, 14}, 3, false).size(), 2u);   // 11 12 | 13 14
  EXPECT_EQ(perplexity_windows({10, 11, 12, 13, 14, 15}, 3, false).back().target, std::vector<int64_t>{15});
  EXPECT_TRUE(perplexity_windows({10}, 3, false).empty());
  EXPECT_EQ(perplexity_windows(ids, 100, false).size(), 1u);
}

TEST(Perplexity, EqualsExpOfTheMeanNextTokenNll) {
  auto m = testing::make_bigram_model(3);
  const auto [sum, count] = ppl_test_direct(*m, ppl_test_documents());
  PerplexityOptions opts;
  opts.batch_size = 2;
  const PerplexityResult r = evaluate_perplexity(*m->model, m->tokenizer, ppl_test_documents(), opts);
  EXPECT_EQ(r.num_tokens, count);
  EXPECT_EQ(r.num_documents, 4);
  EXPECT_EQ(r.num_windows, 4);  // "dave" after BOS is a window of two tokens
  EXPECT_NEAR(r.total_nll, sum, 1e-9 * sum);
  EXPECT_NEAR(r.mean_nll(), sum / static_cast<double>(count), 1e-9);
  EXPECT_NEAR(r.perplexity(), std::exp(sum / static_cast<double>(count)), 1e-9 * r.perplexity());
  EXPECT_EQ(r.metrics().front().first, "ppl");
}

TEST(Perplexity, WindowsPredictEveryTokenOnce) {
  // The bigram model ignores context, so short windows give the same total.
  auto m = testing::make_bigram_model(3);
  const auto [sum, count] = ppl_test_direct(*m, ppl_test_documents());
  PerplexityOptions opts;
  opts.max_length = 4;
  const PerplexityResult r = evaluate_perplexity(*m->model, m->tokenizer, ppl_test_documents(), opts);
  EXPECT_EQ(r.num_tokens, count);
  EXPECT_GT(r.num_windows, 4);
  EXPECT_NEAR(r.total_nll, sum, 1e-9 * sum);

  opts.truncate = true;  // first 3 predicted tokens of each document only
  const PerplexityResult t = evaluate_perplexity(*m->model, m->tokenizer, ppl_test_documents(), opts);
  EXPECT_EQ(t.num_tokens, 3 + 3 + 1 + 3);
  EXPECT_EQ(t.num_windows, 4);
}

TEST(Perplexity, CorpusFileMatchesInMemoryDocuments) {
  auto m = testing::make_bigram_model(3);
  const std::string path = ::revive::testing::temp_dir("ppl-file") + "/corpus.txt";
  {
    std::ofstream out(path);
    for (const std::string& d : ppl_test_documents()) out << d << "\n<|endoftext|>\n";
  }
  const PerplexityResult a = evaluate_perplexity(*m->model, m->tokenizer, ppl_test_documents());
  const PerplexityResult b = evaluate_perplexity_file(*m->model, m->tokenizer, path);
  EXPECT_EQ(a.num_tokens, b.num_tokens);
  EXPECT_EQ(a.num_documents, b.num_documents);
  EXPECT_NEAR(a.total_nll, b.total_nll, 1e-9 * a.total_nll);
}

// Nothing to score is an error naming the file, not a perplexity of 1; windows
// past the model's positions are refused, not scored.
TEST(Perplexity, RefusesAnEmptyFileAndWindowsPastTheModelsPositions) {
  auto m = testing::make_bigram_model(3);
  const std::string path = ::revive::testing::temp_dir("ppl-empty") + "/empty.txt";
  std::ofstream(path) << "  \n";
  try {
    evaluate_perplexity_file(*m->model, m->tokenizer, path);
    ADD_FAILURE() << "an empty file was scored";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("empty.txt"), std::string::npos) << e.what();
  }
  PerplexityOptions o;
  o.max_length = m->model->config().max_position_embeddings + 1;
  EXPECT_THROW(evaluate_perplexity(*m->model, m->tokenizer, ppl_test_documents(), o), Error);
  o.max_length = m->model->config().max_position_embeddings;
  EXPECT_NO_THROW(evaluate_perplexity(*m->model, m->tokenizer, ppl_test_documents(), o));
}

}  // namespace
}  // namespace revive::eval
