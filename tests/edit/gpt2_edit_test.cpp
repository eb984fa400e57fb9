// Editing a GPT-2 model (Conv1D weights stored [in, out], fused c_attn): layer
// statistics and a MEMIT batch on block 0's mlp.c_proj of a tiny random GPT-2 checkpoint
// with a word-level tokenizer, both written here. The stories260K tests cover
// Llama; this one keeps the GPT-2 family (preset gpt2-xl) editable.
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <fstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "lib/edit/run/batch_edit.h"
#include "lib/edit/run/layer_statistics.h"
#include "lib/edit/editors/memit_editor.h"
#include "lib/model/model_loader.h"
#include "lib/model/tokenizer.h"
#include "sharding/comm/local_communicator.h"
#include "tests/model/gpt2_checkpoint.h"
#include "tests/model/reference_model.h"
#include "tests/support/fixtures.h"

namespace revive::edit {
namespace {

// Words of the requests and the corpus below, ids inside the tiny model's vocabulary.
void write_word_tokenizer(const std::string& dir, int64_t vocab_size) {
  const std::vector<std::string> words = {"[UNK]", "Tom", "Ann", "had", "a", "pet", "cat", "dog", "red", "ball",
                                          "liked", "the", "park", "One", "day", ".", "saw", "big", "and"};
  ASSERT_LE(static_cast<int64_t>(words.size()), vocab_size);
  nlohmann::json vocab = nlohmann::json::object();
  for (size_t i = 0; i < words.size(); ++i) vocab[words[i]] = static_cast<int64_t>(i);
  const nlohmann::json doc = {{"version", "1.0"},
                              {"added_tokens", nlohmann::json::array()},
                              {"normalizer", nullptr},
                              {"pre_tokenizer", {{"type", "Whitespace"}}},
                              {"post_processor", nullptr},
                              {"decoder", nullptr},
                              {"model", {{"type", "WordLevel"}, {"vocab", vocab}, {"unk_token", "[UNK]"}}}};
  std::ofstream(dir + "/tokenizer.json") << doc.dump();
}

TEST(Gpt2Edit, StatisticsAndAMemitBatchOnMlpCProj) {
  const model::ModelConfig config = model::testing::tiny_gpt2_config();
  const std::string dir = revive::testing::temp_dir("gpt2-edit");
  model::testing::write_gpt2_checkpoint(dir, config, model::testing::random_gpt2(config, 21), /*prefixed=*/true);
  write_word_tokenizer(dir, config.vocab_size);
  const std::string corpus = dir + "/corpus.txt";
  std::ofstream(corpus) << "Tom had a pet dog .\nAnn liked the park .\nOne day Tom saw a big red ball .\n"
                           "Ann had a pet cat and a red ball .\n";

  sharding::LocalCommunicator tp("tp"), dp("dp");
  const auto model = model::load_model(dir, tp);
  const model::Tokenizer tok = model::Tokenizer::from_file(dir);
  // Layer 0: the delta at the subject's token reaches the read positions through
  // block 1's attention (on the last block it would only move its own position).
  const std::string name = model->module_name({0, "mlp.c_proj"});
  EXPECT_EQ(model->device(), c10::Device(c10::kCPU));

  StatisticsOptions so;
  so.corpus = corpus;
  so.corpus_options.split = data::DocumentSplit::kLines;
  const auto stats = compute_layer_statistics(*model, tok, {name}, so, dp);
  const at::Tensor c = stats.at(name).second_moment;
  EXPECT_EQ(c.size(0), config.intermediate_size);  // c_proj's input: the MLP's hidden width
  EXPECT_GT(stats.at(name).tokens, 20);

  MemitOptions mo;
  mo.mom2_update_weight = 1.0;
  MemitEditor editor(mo);
  editor.set_statistics(name, c);
  EditPlan plan;
  plan.layers = {0};
  plan.module = "mlp.c_proj";
  plan.values.steps = 5;
  BatchEditor be(*model, tok, editor, plan);
  const at::Tensor before = model->linear_weight(name).local().clone();
  std::vector<data::EditRequest> batch(2);
  batch[0].prompt_template = "{} had a pet";
  batch[0].subject = "Tom";
  batch[0].target_new = "cat";
  batch[0].target_true = "dog";
  batch[1].prompt_template = "{} liked the";
  batch[1].subject = "Ann";
  batch[1].target_new = "ball";
  batch[1].target_true = "park";
  const BatchReport r = be.apply(batch);
  EXPECT_EQ(r.values.targets.size(1), 2);
  ASSERT_EQ(r.layers.size(), 1u);
  EXPECT_GT(r.layers[0].update_norm, 0.0);
  EXPECT_GT((model->linear_weight(name).local() - before).abs().max().item<double>(), 0.0);
}

}  // namespace
}  // namespace revive::edit
