// Acceptance on the real stories260K checkpoint (skipped without the fixture):
// perplexity on the README's TinyStories protocol matches reference.json and the
// runtime's own next_token_nll; CounterFact and zsRE scores agree with direct
// forward passes of the runtime.
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <cmath>

#include "lib/data/request_files.h"
#include "lib/eval/counterfact.h"
#include "lib/eval/perplexity.h"
#include "lib/eval/target_accuracy.h"
#include "lib/eval/zsre.h"
#include "lib/model/log_probs.h"
#include "lib/model/model_loader.h"
#include "lib/model/prompt_tokens.h"
#include "lib/model/tokenizer.h"
#include "sharding/comm/local_communicator.h"
#include "tests/model/stories_fixture.h"
#include "tests/support/fixtures.h"

namespace revive::eval {
namespace {

// Summed next-token NLL of `target` after `prompt` from one unpadded forward pass.
double stories_test_direct_nll(model::Transformer& m, const model::Continuation& c) {
  std::vector<int64_t> ids = c.prompt;
  ids.insert(ids.end(), c.target.begin(), c.target.end());
  const at::Tensor x = at::tensor(ids, at::kLong).view({1, -1});
  const at::Tensor nll = model::next_token_nll(m.forward(x), x)[0];
  return nll.narrow(0, static_cast<int64_t>(c.prompt.size()) - 1, static_cast<int64_t>(c.target.size()))
      .sum()
      .item<double>();
}

TEST(Stories260KEval, PerplexityMatchesReferenceAndRuntime) {
  REVIVE_REQUIRE_DATA(folder, "stories260K-hf");
  REVIVE_REQUIRE_DATA(corpus, "text_corpora/tinystories_head_2MiB.txt");
  const nlohmann::json ref = model::testing::read_json(folder + "/reference.json");
  const model::Tokenizer tok = model::Tokenizer::from_file(folder);
  sharding::LocalCommunicator tp("tp");
  auto m = model::load_model(folder, tp);

  data::CorpusOptions corpus_opts;  // stories split on <|endoftext|>, stripped
  corpus_opts.max_documents = 50;
  PerplexityOptions opts;  // BOS + first 255 predicted tokens per story
  opts.max_length = 256;
  opts.truncate = true;
  opts.batch_size = 10;
  const PerplexityResult r = evaluate_perplexity_file(*m, tok, corpus, corpus_opts, opts);
  EXPECT_EQ(r.num_documents, 50);
  EXPECT_EQ(r.num_tokens, ref.at("nll_tokens").get<int64_t>());
  const double expected = ref.at("nll_tinystories_first50_stories_256tok").get<double>();
  // The reference comes from an independent f32 forward pass: agreement to 1e-4.
  EXPECT_NEAR(r.mean_nll(), expected, 1e-4 * expected) << "mean NLL " << r.mean_nll();

  // The runtime's own next_token_nll, story by story without padding.
  double direct = 0;
  for (const auto& ids : model::testing::story_tokens(tok, corpus)) {
    direct += stories_test_direct_nll(*m, {{ids.front()}, std::vector<int64_t>(ids.begin() + 1, ids.end())});
  }
  EXPECT_NEAR(r.total_nll, direct, 1e-5 * direct);
  EXPECT_NEAR(r.perplexity(), std::exp(direct / static_cast<double>(r.num_tokens)), 1e-5 * r.perplexity());
}

TEST(Stories260KEval, CounterFactAgreesWithDirectForwardPasses) {
  REVIVE_REQUIRE_DATA(folder, "stories260K-hf");
  REVIVE_REQUIRE_DATA(requests_file, "counterfact_rome_samples/most_orthogonal.json");
  const model::Tokenizer tok = model::Tokenizer::from_file(folder);
  sharding::LocalCommunicator tp("tp");
  auto m = model::load_model(folder, tp);
  data::RequestFileOptions ro;
  ro.read.limit = 3;
  const auto requests = data::read_requests(requests_file, ro).requests;
  ASSERT_EQ(requests.size(), 3u);

  CounterFactOptions opts;
  opts.generation.max_new_tokens = 8;
  const CounterFactResult r = evaluate_counterfact(*m, tok, requests, opts);
  for (size_t i = 0; i < requests.size(); ++i) {
    const data::EditRequest& q = requests[i];
    const model::Continuation cn = model::tokenize_continuation(tok, q.prompt(), q.target_new);
    const model::Continuation ct = model::tokenize_continuation(tok, q.prompt(), q.target_true);
    const double nn = stories_test_direct_nll(*m, cn) / static_cast<double>(cn.target.size());
    const double nt = stories_test_direct_nll(*m, ct) / static_cast<double>(ct.target.size());
    EXPECT_NEAR(r.requests[i].new_nll, nn, 1e-4 * nn);
    EXPECT_NEAR(r.requests[i].true_nll, nt, 1e-4 * nt);
    EXPECT_EQ(r.requests[i].efficacy, nn < nt ? 1.0 : 0.0);
    EXPECT_EQ(r.requests[i].num_paraphrases, static_cast<int64_t>(q.paraphrase_prompts.size()));
    EXPECT_EQ(r.requests[i].num_neighbors, static_cast<int64_t>(q.neighborhood_prompts.size()));
    EXPECT_EQ(r.requests[i].num_generations, static_cast<int64_t>(q.generation_prompts.size()));
    if (!q.generation_prompts.empty()) {
      EXPECT_GT(r.requests[i].fluency, 0.0);
    }
  }
  EXPECT_EQ(r.num_efficacy, 3);
}

TEST(Stories260KEval, ZsreAccuracyAgreesWithDirectArgmax) {
  REVIVE_REQUIRE_DATA(folder, "stories260K-hf");
  REVIVE_REQUIRE_DATA(requests_file, "zsre/zsre_mend_train-1k.json");
  const model::Tokenizer tok = model::Tokenizer::from_file(folder);
  sharding::LocalCommunicator tp("tp");
  auto m = model::load_model(folder, tp);
  data::RequestFileOptions ro;
  ro.read.limit = 4;
  const auto requests = data::read_requests(requests_file, ro).requests;
  ASSERT_EQ(requests.size(), 4u);
  const ZsreResult r = evaluate_zsre(*m, tok, requests);
  for (size_t i = 0; i < requests.size(); ++i) {
    const model::Continuation c = model::tokenize_continuation(tok, requests[i].prompt(), requests[i].target_new);
    std::vector<int64_t> ids = c.prompt;
    ids.insert(ids.end(), c.target.begin(), c.target.end());
    const at::Tensor logits = m->forward(at::tensor(ids, at::kLong).view({1, -1}))[0];
    int64_t correct = 0;
    for (size_t j = 0; j < c.target.size(); ++j) {
      correct += logits[static_cast<int64_t>(c.prompt.size() + j) - 1].argmax().item<int64_t>() == c.target[j] ? 1 : 0;
    }
    EXPECT_DOUBLE_EQ(r.requests[i].edit_accuracy,
                     static_cast<double>(correct) / static_cast<double>(c.target.size()));
  }
}

}  // namespace
}  // namespace revive::eval
