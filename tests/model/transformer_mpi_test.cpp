// Tensor-parallel forward and backward equal the single-process model: every
// rank builds the model over the world (tp = np) and over a local group of one
// (tp = 1) and compares logits, captured keys, generated tokens and the
// gradients of a block-output delta. np 1, 2, 4.
#include <ATen/ATen.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "lib/model/generation.h"
#include "lib/model/hooks.h"
#include "lib/model/model_loader.h"
#include "lib/model/transformer.h"
#include "lib/model/weight_source.h"
#include "sharding/comm/local_communicator.h"
#include "sharding/errors.h"
#include "tests/model/gpt2_checkpoint.h"
#include "tests/model/reference_model.h"
#include "tests/support/fixtures.h"
#include "tests/support/test_world.h"

namespace revive::model {
namespace {

using revive::testing::world;

double rel_err(const at::Tensor& a, const at::Tensor& b) {
  return (a - b).norm().item<double>() / b.norm().item<double>();
}

struct DeltaRun {
  at::Tensor logits, grad, key_full, key_local;
  bool key_split = false;
};

// forward with a delta at (row 1, pos 4) of block `layer`, a capture of
// `module`'s input in block `layer` + 1, and the gradient of a fixed functional.
DeltaRun run_with_delta(Transformer& m, const at::Tensor& ids, const at::Tensor& mask, int64_t layer,
                        const std::string& module) {
  auto g = at::make_generator<at::CPUGeneratorImpl>(99);
  const at::ScalarType dt = m.dtype();
  const at::Tensor delta = (at::randn({m.config().hidden_size}, g, at::kDouble) * 0.5).to(dt).requires_grad_(true);
  Hooks hooks;
  hooks.add_to_block_output(layer, {{1, 4}}, delta);
  const size_t key = hooks.capture_input(layer + 1, module, {{0, 2}, {1, 5}});
  ForwardOptions opts;
  opts.hooks = &hooks;
  opts.attention_mask = mask;
  DeltaRun r;
  r.logits = m.forward(ids, opts);
  at::log_softmax(r.logits.to(at::kDouble), -1).select(-1, 3).sum().backward();
  r.grad = delta.grad();
  r.key_full = hooks.captured(key).full();
  r.key_local = hooks.captured(key).local;
  r.key_split = hooks.captured(key).split;
  return r;
}

void expect_same_run(const DeltaRun& tp, const DeltaRun& one, double tol) {
  EXPECT_LT(rel_err(tp.logits, one.logits), tol);
  EXPECT_LT(rel_err(tp.grad, one.grad), tol);
  EXPECT_LT(rel_err(tp.key_full, one.key_full), tol);
  if (tp.key_split) {
    const sharding::Range r = sharding::shard_range(one.key_full.size(1), world().rank(), world().size());
    EXPECT_LT(rel_err(tp.key_local, one.key_full.narrow(1, r.begin, r.size)), tol);
  }
}

at::Tensor ragged_mask(int64_t b, int64_t t) {
  at::Tensor mask = at::ones({b, t}, at::kLong);
  mask[0].narrow(0, t - 2, 2).fill_(0);  // row 0 right-padded by two
  return mask;
}

TEST(TransformerTp, LlamaLogitsKeysAndDeltaGradientsMatchTp1) {
  const ModelConfig c = testing::tiny_llama_config();
  const testing::Weights w = testing::random_llama(c, 21);
  InMemoryWeightSource src(w, model_dims(c), at::kDouble);
  sharding::LocalCommunicator one("tp1");
  Transformer m_tp(c, src, world());
  Transformer m_one(c, src, one);
  auto g = at::make_generator<at::CPUGeneratorImpl>(5);
  const at::Tensor ids = at::randint(c.vocab_size, {2, 7}, g, at::kLong);
  const DeltaRun a = run_with_delta(m_tp, ids, ragged_mask(2, 7), 0, "mlp.down_proj");
  const DeltaRun b = run_with_delta(m_one, ids, ragged_mask(2, 7), 0, "mlp.down_proj");
  EXPECT_EQ(a.key_split, true);
  expect_same_run(a, b, 1e-12);
  // And the unsharded reference, row 1 (no padding, no delta effect before pos 4).
  EXPECT_LT(rel_err(a.logits[1].narrow(0, 0, 4), testing::reference_llama(c, w, ids[1]).narrow(0, 0, 4)), 1e-12);
}

TEST(TransformerTp, GreedyGenerationMatchesTp1) {
  const ModelConfig c = testing::tiny_llama_config(/*tied=*/true, /*bias=*/false);
  InMemoryWeightSource src(testing::random_llama(c, 22), model_dims(c), at::kDouble);
  sharding::LocalCommunicator one("tp1");
  Transformer m_tp(c, src, world());
  Transformer m_one(c, src, one);
  GenerationOptions opts;
  opts.max_new_tokens = 6;
  const std::vector<std::vector<int64_t>> prompts = {{1, 2, 3}, {4}, {5, 6, 7, 8, 9}};
  EXPECT_EQ(generate(m_tp, prompts, opts), generate(m_one, prompts, opts));
  opts.top_k = 4;
  opts.seed = 7;
  EXPECT_EQ(generate(m_tp, prompts, opts), generate(m_one, prompts, opts));
}

TEST(TransformerTp, KvHeadsNotDivisibleByTpIsAnError) {
  ModelConfig c = testing::tiny_llama_config();
  c.num_heads = 6;
  c.num_kv_heads = 3;
  c.head_dim = 4;
  c.hidden_size = 24;
  InMemoryWeightSource src(testing::random_llama(c, 23), model_dims(c), at::kDouble);
  if (world().size() == 1) {
    EXPECT_NO_THROW({ Transformer m(c, src, world()); });
  } else {
    try {
      Transformer m(c, src, world());
      ADD_FAILURE() << "expected an error for tp " << world().size() << " and 3 kv heads";
    } catch (const revive::Error& e) {
      EXPECT_NE(std::string(e.what()).find("heads"), std::string::npos) << e.what();
    }
  }
}

TEST(TransformerTp, Gpt2CheckpointMatchesTp1AndReference) {
  const ModelConfig c = testing::tiny_gpt2_config();
  const testing::Weights w = testing::random_gpt2(c, 24);
  const std::string dir = revive::testing::temp_dir("gpt2tp");  // per rank
  testing::write_gpt2_checkpoint(dir, c, w, true);
  sharding::LocalCommunicator one("tp1");
  LoadOptions lo;
  lo.dtype = at::kDouble;
  auto m_tp = load_model(dir, world(), lo);
  auto m_one = load_model(dir, one, lo);
  auto g = at::make_generator<at::CPUGeneratorImpl>(6);
  const at::Tensor ids = at::randint(c.vocab_size, {2, 8}, g, at::kLong);
  const DeltaRun a = run_with_delta(*m_tp, ids, ragged_mask(2, 8), 0, "mlp.c_proj");
  const DeltaRun b = run_with_delta(*m_one, ids, ragged_mask(2, 8), 0, "mlp.c_proj");
  expect_same_run(a, b, 1e-12);
  EXPECT_LT(rel_err(a.logits[1].narrow(0, 0, 4), testing::reference_gpt2(c, w, ids[1]).narrow(0, 0, 4)), 1e-12);
}

TEST(TransformerTp, Stories260KMatchesTp1) {
  REVIVE_REQUIRE_DATA(folder, "stories260K-hf");
  sharding::LocalCommunicator one("tp1");
  auto m_tp = load_model(folder, world());
  auto m_one = load_model(folder, one);
  auto g = at::make_generator<at::CPUGeneratorImpl>(8);
  const at::Tensor ids = at::randint(512, {2, 24}, g, at::kLong);
  const DeltaRun a = run_with_delta(*m_tp, ids, ragged_mask(2, 24), 2, "mlp.down_proj");
  const DeltaRun b = run_with_delta(*m_one, ids, ragged_mask(2, 24), 2, "mlp.down_proj");
  expect_same_run(a, b, 1e-5);
  // f64 weights: the tensor-parallel result is the same to rounding.
  LoadOptions lo;
  lo.dtype = at::kDouble;
  auto d_tp = load_model(folder, world(), lo);
  auto d_one = load_model(folder, one, lo);
  expect_same_run(run_with_delta(*d_tp, ids, ragged_mask(2, 24), 2, "mlp.down_proj"),
                  run_with_delta(*d_one, ids, ragged_mask(2, 24), 2, "mlp.down_proj"), 1e-12);
}

}  // namespace
}  // namespace revive::model
