// The toy model trainer: a tiny world is learnt to the recall target, the saved
// folder is exactly the in-memory model, the cache reuses and invalidates, and
// bad options are reported by name.
#include "lib/train/toy_trainer.h"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "lib/data/atomic_file.h"
#include "lib/data/toy_world_export.h"
#include "lib/data/wordlevel_tokenizer.h"
#include "lib/model/model_loader.h"
#include "lib/model/tokenizer.h"
#include "lib/train/toy_model_builder.h"
#include "lib/train/toy_world_folder.h"
#include "sharding/comm/local_communicator.h"
#include "sharding/errors.h"
#include "tests/support/fixtures.h"

namespace revive::train {
namespace {

namespace fs = std::filesystem;

data::ToyWorldOptions tiny_world_options() {
  data::ToyWorldOptions o;
  o.seed = 7;
  o.num_subjects = 20;
  o.num_relations = 2;
  return o;
}

ToyModelOptions tiny_model() {
  ToyModelOptions m;
  m.hidden_size = 64;
  m.num_layers = 2;
  m.num_heads = 4;
  m.intermediate_size = 128;
  return m;
}

ToyTrainOptions tiny_training() {
  ToyTrainOptions t;
  t.seed = 3;
  t.max_steps = 600;
  t.batch_size = 32;
  t.learning_rate = 1e-2;
  t.warmup_steps = 20;
  t.log_every = 0;
  return t;
}

std::string read_all(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// One tiny world folder and one cached build shared by the tests (training is
// the slow part).
class ToyTrainer : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    // Tiny matrices: one thread is fastest and immune to a busy machine.
    at::set_num_threads(1);
    world_ = new data::ToyWorld(data::ToyWorld::generate(tiny_world_options()));
    root_ = new std::string(revive::testing::temp_dir("toy_trainer"));
    world_dir_ = new std::string((fs::path(*root_) / "world").string());
    model_dir_ = new std::string((fs::path(*root_) / "model").string());
    data::write_toy_world(*world_, *world_dir_);
    build_ =
        new ToyModelBuild(build_toy_model(*world_, *world_dir_, *model_dir_, tiny_model(), tiny_training()));
  }
  static void TearDownTestSuite() {
    delete build_;
    delete world_;
    delete root_;
    delete world_dir_;
    delete model_dir_;
  }
  static data::ToyWorld* world_;
  static std::string *root_, *world_dir_, *model_dir_;
  static ToyModelBuild* build_;
};
data::ToyWorld* ToyTrainer::world_ = nullptr;
std::string* ToyTrainer::root_ = nullptr;
std::string* ToyTrainer::world_dir_ = nullptr;
std::string* ToyTrainer::model_dir_ = nullptr;
ToyModelBuild* ToyTrainer::build_ = nullptr;

TEST_F(ToyTrainer, TinyWorldReachesRecallTarget) {
  const ToyTrainStats& s = build_->stats;
  EXPECT_FALSE(build_->reused);
  EXPECT_TRUE(s.reached_target) << "recall " << s.recall.recall() << " after " << s.steps << " steps";
  EXPECT_GE(s.recall.recall(), 0.95);
  EXPECT_EQ(s.recall.probes, 20 * 2 * 4);
  EXPECT_EQ(s.recall.facts, 20 * 2);
  EXPECT_LT(s.steps, tiny_training().max_steps);
  for (const char* f :
       {"config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json", "training.json"}) {
    EXPECT_TRUE(fs::is_regular_file(fs::path(*model_dir_) / f)) << f;
  }
  const nlohmann::json j =
      nlohmann::json::parse(read_all((fs::path(*model_dir_) / "training.json").string()));
  EXPECT_EQ(j["key"], build_->key);
  EXPECT_EQ(j["seed"], 3);
  EXPECT_EQ(j["steps"], s.steps);
  EXPECT_GE(j["recall"].get<double>(), 0.95);
  EXPECT_GT(j["final_loss"].get<double>(), 0.0);
  EXPECT_GE(j["seconds"].get<double>(), 0.0);
  EXPECT_EQ(read_all((fs::path(*model_dir_) / "tokenizer.json").string()),
            read_all((fs::path(*world_dir_) / "tokenizer.json").string()));
  const nlohmann::json config =
      nlohmann::json::parse(read_all((fs::path(*model_dir_) / "config.json").string()));
  EXPECT_EQ(config["model_type"], "llama");
  EXPECT_EQ(config["hidden_size"], 64);
}

TEST_F(ToyTrainer, SavedFolderGivesTheInMemoryLogits) {
  // Same options and seed as the cached build: training is deterministic, so
  // the in-memory weights equal the saved ones bit for bit.
  const model::Tokenizer tok = model::Tokenizer::from_file(*world_dir_);
  sharding::LocalCommunicator tp("tp");
  ToyTrainResult mem = train_toy_model(*world_, tok, tiny_model(), tiny_training(), tp);
  EXPECT_EQ(mem.stats.steps, build_->stats.steps);
  auto loaded = model::load_model(*model_dir_, tp);
  for (const auto& [name, t] : mem.model->named_parameters()) {
    if (name.rfind("model.layers.", 0) != 0 || name.find("norm") != std::string::npos) continue;
    EXPECT_TRUE(at::equal(t.detach(), loaded->linear_weight(name).local())) << name;
  }
  std::vector<std::vector<int64_t>> seqs;
  for (size_t i = 0; i < 16; ++i) seqs.push_back(tok.encode(world_->training_lines()[i]));
  const model::PaddedBatch batch = model::pad_right(seqs, *tok.pad_id());
  model::ForwardOptions opts;
  opts.attention_mask = batch.mask;
  at::NoGradGuard no_grad;
  const at::Tensor a = mem.model->model().forward(batch.ids, opts);
  const at::Tensor b = loaded->forward(batch.ids, opts);
  EXPECT_TRUE(at::equal(a, b)) << "max |diff| " << (a - b).abs().max().item<double>();
  // And the loaded model recalls the facts as well as the trained one.
  const RecallReport r = measure_fact_recall(*loaded, make_fact_probes(*world_, tok));
  EXPECT_EQ(r.probes_recalled, build_->stats.recall.probes_recalled);
}

TEST_F(ToyTrainer, TokenizerRoundTripsEveryTrainingLine) {
  const model::Tokenizer tok =
      model::Tokenizer::from_file((fs::path(*model_dir_) / "tokenizer.json").string());
  ASSERT_TRUE(tok.bos_id() && tok.eos_id() && tok.pad_id());
  const int64_t unk = *tok.token_to_id(data::kUnkToken);
  for (const std::string& line : world_->training_lines()) {
    const std::vector<int64_t> ids = tok.encode(line);
    ASSERT_GE(ids.size(), 2u);
    EXPECT_EQ(ids.front(), *tok.bos_id()) << line;
    for (int64_t id : ids) EXPECT_NE(id, unk) << line;
    EXPECT_EQ(tok.decode(ids), line);
  }
}

TEST_F(ToyTrainer, CacheReusesAndInvalidates) {
  const auto t0 = std::chrono::steady_clock::now();
  const ToyModelBuild again =
      build_toy_model(*world_, *world_dir_, *model_dir_, tiny_model(), tiny_training());
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_TRUE(again.reused);
  EXPECT_EQ(again.key, build_->key);
  EXPECT_EQ(again.stats.steps, build_->stats.steps);
  EXPECT_EQ(again.stats.recall.probes_recalled, build_->stats.recall.probes_recalled);
  EXPECT_LT(seconds, 2.0);

  // The key follows every input that changes the weights, and nothing else.
  const std::string tok_json = read_all((fs::path(*world_dir_) / "tokenizer.json").string());
  const std::string k = toy_model_key(*world_, tok_json, tiny_model(), tiny_training()).key;
  EXPECT_EQ(k, build_->key);
  ToyTrainOptions quiet = tiny_training();
  quiet.log_every = 7;
  quiet.eval_batch_size = 3;
  EXPECT_EQ(toy_model_key(*world_, tok_json, tiny_model(), quiet).key, k);
  ToyTrainOptions lr = tiny_training();
  lr.learning_rate = 2e-2;
  EXPECT_NE(toy_model_key(*world_, tok_json, tiny_model(), lr).key, k);
  ToyModelOptions wider = tiny_model();
  wider.intermediate_size = 192;
  EXPECT_NE(toy_model_key(*world_, tok_json, wider, tiny_training()).key, k);
  data::ToyWorldOptions other_world = tiny_world_options();
  other_world.seed = 8;
  EXPECT_NE(toy_model_key(data::ToyWorld::generate(other_world), tok_json, tiny_model(), tiny_training()).key,
            k);
  EXPECT_NE(toy_model_key(*world_, tok_json + " ", tiny_model(), tiny_training()).key, k);

  // A different key retrains (a few steps here) and rewrites the folder.
  const std::string dir = (fs::path(*root_) / "model_cache").string();
  ToyTrainOptions short_run = tiny_training();
  short_run.max_steps = 3;
  const ToyModelBuild first = build_toy_model(*world_, *world_dir_, dir, tiny_model(), short_run);
  EXPECT_FALSE(first.reused);
  EXPECT_EQ(first.stats.steps, 3);
  EXPECT_FALSE(first.stats.reached_target);
  EXPECT_TRUE(build_toy_model(*world_, *world_dir_, dir, tiny_model(), short_run).reused);
  ToyTrainOptions other = short_run;
  other.seed = 4;
  const ToyModelBuild second = build_toy_model(*world_, *world_dir_, dir, tiny_model(), other);
  EXPECT_FALSE(second.reused);
  EXPECT_NE(second.key, first.key);
  EXPECT_EQ(complete_toy_model_key(dir), second.key);
  // An incomplete folder is rebuilt even with the right key.
  fs::remove(fs::path(dir) / "model.safetensors");
  EXPECT_EQ(complete_toy_model_key(dir), "");
  EXPECT_FALSE(build_toy_model(*world_, *world_dir_, dir, tiny_model(), other).reused);
  EXPECT_TRUE(build_toy_model(*world_, *world_dir_, dir, tiny_model(), other).reused);
}

TEST_F(ToyTrainer, WorldFolderReadsBackAndRejectsAForeignOne) {
  const data::ToyWorld back = read_toy_world_folder(*world_dir_);
  EXPECT_EQ(back.subjects(), world_->subjects());
  EXPECT_EQ(back.training_lines(), world_->training_lines());

  const std::string dir = revive::testing::temp_dir("toy_world_tampered");
  data::write_toy_world(*world_, dir);
  data::write_file_atomic((fs::path(dir) / "train.txt").string(), "Someone lives in Paris\n");
  EXPECT_THROW(read_toy_world_folder(dir), InputError);
  EXPECT_THROW(read_toy_world_folder((fs::path(dir) / "missing").string()), InputError);
}

TEST_F(ToyTrainer, TrainableWeightsAreTheModelsWeights) {
  const model::Tokenizer tok = model::Tokenizer::from_file(*world_dir_);
  sharding::LocalCommunicator tp("tp");
  TrainableLlama net(toy_llama_config(tiny_model(), tok.vocab_size()), 5, tp);
  EXPECT_GT(net.num_parameters(), 0);
  for (const auto& [name, t] : net.named_parameters()) {
    EXPECT_TRUE(t.requires_grad()) << name;
    if (name.find("proj") != std::string::npos) {
      EXPECT_TRUE(net.model().linear_weight(name).local().is_same(t)) << name;
    }
  }
  const model::PaddedBatch batch = model::pad_right({tok.encode(world_->training_lines()[0])}, *tok.pad_id());
  net.model().forward(batch.ids).sum().backward();
  for (const auto& [name, t] : net.named_parameters()) {
    ASSERT_TRUE(t.grad().defined()) << name << " gets no gradient";
    EXPECT_GT(t.grad().abs().sum().item<double>(), 0.0) << name;
  }
}

void expect_error_naming(const std::function<void()>& f, const std::string& what) {
  try {
    f();
    ADD_FAILURE() << "no error for " << what;
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(what), std::string::npos) << e.what();
  }
}

TEST(ToyTrainerOptions, BadOptionsAreNamed) {
  ToyModelOptions m;
  m.hidden_size = 30;
  expect_error_naming([&] { validate(m); }, "hidden_size");
  m = ToyModelOptions();
  m.num_layers = 0;
  expect_error_naming([&] { validate(m); }, "num_layers");
  m = ToyModelOptions();
  m.num_heads = 0;
  expect_error_naming([&] { validate(m); }, "num_heads");
  ToyTrainOptions t;
  t.learning_rate = 0;
  expect_error_naming([&] { validate(t); }, "learning_rate");
  t = ToyTrainOptions();
  t.batch_size = 0;
  expect_error_naming([&] { validate(t); }, "batch_size");
  t = ToyTrainOptions();
  t.target_recall = 1.5;
  expect_error_naming([&] { validate(t); }, "target_recall");
  t = ToyTrainOptions();
  t.max_steps = -1;
  expect_error_naming([&] { validate(t); }, "max_steps");
}

TEST(ToyTrainerOptions, ForeignTokenizerIsRejected) {
  // A tokenizer written for another world lacks this world's subjects.
  data::ToyWorldOptions a = tiny_world_options();
  data::ToyWorldOptions b = a;
  b.seed = 99;
  const std::string dir = revive::testing::temp_dir("toy_foreign_tok");
  data::write_toy_world(data::ToyWorld::generate(b), dir);
  const model::Tokenizer tok = model::Tokenizer::from_file(dir);
  sharding::LocalCommunicator tp("tp");
  ToyTrainOptions t = tiny_training();
  t.max_steps = 1;
  expect_error_naming([&] { train_toy_model(data::ToyWorld::generate(a), tok, tiny_model(), t, tp); },
                      "does not know");
}

}  // namespace
}  // namespace revive::train
