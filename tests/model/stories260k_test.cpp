// Acceptance on the real stories260K checkpoint (skipped without the fixture):
// mean next-token NLL on the README's TinyStories protocol within 0.5% of
// reference.json, and greedy decoding reproducing the continuation that
// reference.json records.
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "lib/model/generation.h"
#include "lib/model/log_probs.h"
#include "lib/model/model_loader.h"
#include "lib/model/tokenizer.h"
#include "sharding/comm/local_communicator.h"
#include "sharding/errors.h"
#include "tests/model/stories_fixture.h"
#include "tests/support/fixtures.h"

namespace revive::model {
namespace {

TEST(Stories260K, NllMatchesReference) {
  REVIVE_REQUIRE_DATA(folder, "stories260K-hf");
  REVIVE_REQUIRE_DATA(corpus, "text_corpora/tinystories_head_2MiB.txt");
  const nlohmann::json ref = testing::read_json(folder + "/reference.json");
  const Tokenizer tok = Tokenizer::from_file(folder);
  sharding::LocalCommunicator tp("tp");
  auto model = load_model(folder, tp);

  std::vector<Continuation> items;
  for (auto& ids : testing::story_tokens(tok, corpus)) {
    items.push_back({{ids.front()}, std::vector<int64_t>(ids.begin() + 1, ids.end())});
  }
  double sum = 0;
  int64_t count = 0;
  for (const ContinuationScore& s : score_continuations(*model, items, 10)) {
    sum += s.sum_nll;
    count += s.num_tokens;
  }
  EXPECT_EQ(count, ref.at("nll_tokens").get<int64_t>());
  const double expected = ref.at("nll_tinystories_first50_stories_256tok").get<double>();
  const double mean = sum / static_cast<double>(count);
  EXPECT_NEAR(mean, expected, 0.005 * expected) << "mean NLL " << mean;
}

TEST(Stories260K, GreedyTokensMatchReference) {
  REVIVE_REQUIRE_DATA(folder, "stories260K-hf");
  const nlohmann::json ref = testing::read_json(folder + "/reference.json").at("greedy_once_upon_a_time_40");
  const std::vector<int64_t> expected = ref.at("ids").get<std::vector<int64_t>>();
  const Tokenizer tok = Tokenizer::from_file(folder);
  sharding::LocalCommunicator tp("tp");
  auto model = load_model(folder, tp);

  const std::vector<int64_t> prompt = tok.encode("Once upon a time");
  ASSERT_EQ(prompt, std::vector<int64_t>(expected.begin(), expected.begin() + static_cast<int64_t>(prompt.size())));
  GenerationOptions opts;
  opts.max_new_tokens = static_cast<int64_t>(expected.size() - prompt.size());
  const std::vector<int64_t> got = generate(*model, {prompt}, opts).at(0);
  EXPECT_EQ(got, std::vector<int64_t>(expected.begin() + static_cast<int64_t>(prompt.size()), expected.end()));

  // Batched with a shorter and a longer prompt, the row is unchanged.
  const std::vector<int64_t> other = tok.encode("Tom had a red ball. He");
  const auto batched = generate(*model, {other, prompt, {1}}, opts);
  EXPECT_EQ(batched.at(1), got);
}

TEST(Stories260K, TopKSamplingIsSeededAndStaysInTopK) {
  REVIVE_REQUIRE_DATA(folder, "stories260K-hf");
  const Tokenizer tok = Tokenizer::from_file(folder);
  sharding::LocalCommunicator tp("tp");
  auto model = load_model(folder, tp);
  const std::vector<int64_t> prompt = tok.encode("Once upon a time");
  GenerationOptions opts;
  opts.max_new_tokens = 12;
  opts.top_k = 5;
  opts.seed = 42;
  const auto a = generate(*model, {prompt}, opts).at(0);
  const auto b = generate(*model, {prompt}, opts).at(0);
  EXPECT_EQ(a, b);
  opts.seed = 43;
  std::vector<std::vector<int64_t>> others;
  for (int i = 0; i < 3; ++i, ++opts.seed) others.push_back(generate(*model, {prompt}, opts).at(0));
  EXPECT_TRUE(others[0] != a || others[1] != a || others[2] != a) << "sampling ignores the seed";
  // Every sampled token is among the 5 most likely given what precedes it.
  std::vector<int64_t> seq = prompt;
  seq.insert(seq.end(), a.begin(), a.end());
  const at::Tensor logits = model->forward(at::tensor(seq, at::kLong).view({1, -1}))[0];
  for (size_t j = 0; j < a.size(); ++j) {
    const at::Tensor top = std::get<1>(logits[static_cast<int64_t>(prompt.size() + j) - 1].topk(5));
    EXPECT_TRUE((top == a[j]).any().item<bool>()) << "token " << j;
  }
}

// A config.json declaring fewer blocks than the Llama checkpoint holds is
// refused, naming the field (as Gpt2.ACheckpointWithMoreBlocksThanItsConfigIsRefused).
TEST(Stories260K, ACheckpointWithMoreBlocksThanItsConfigIsRefused) {
  REVIVE_REQUIRE_DATA(folder, "stories260K-hf");
  nlohmann::json config = testing::read_json(folder + "/config.json");
  const int64_t layers = config.at("num_hidden_layers").get<int64_t>();
  ASSERT_GE(layers, 2);
  config["num_hidden_layers"] = layers - 1;
  const std::string dir = revive::testing::temp_dir("stories-blocks");
  std::filesystem::create_symlink(std::filesystem::absolute(folder + "/model.safetensors"), dir + "/model.safetensors");
  std::ofstream(dir + "/config.json") << config.dump();
  sharding::LocalCommunicator tp("tp");
  try {
    load_model(dir, tp);
    ADD_FAILURE() << "loaded " << layers - 1 << " of " << layers << " blocks";
  } catch (const InputError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("config.json: num_hidden_layers"), std::string::npos) << what;
    EXPECT_NE(what.find("model.layers." + std::to_string(layers - 1) + "."), std::string::npos) << what;
  }
}

}  // namespace
}  // namespace revive::model
