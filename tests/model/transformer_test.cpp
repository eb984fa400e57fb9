// The Llama-family forward pass (tp = 1) against the straightforward reference
// in reference_model.h: logits, GQA with q/k/v bias, llama3 RoPE scaling, tied
// and untied heads, right-padded batches, the KV cache, hooks (captured keys,
// residual deltas and their gradients), continuation log-probabilities.
#include <ATen/ATen.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "lib/model/hooks.h"
#include "lib/model/kv_cache.h"
#include "lib/model/log_probs.h"
#include "lib/model/rope.h"
#include "lib/model/transformer.h"
#include "lib/model/weight_source.h"
#include "sharding/comm/local_communicator.h"
#include "sharding/errors.h"
#include "tests/model/reference_model.h"

namespace revive::model {
namespace {

using testing::ReferenceExtras;

double rel_err(const at::Tensor& a, const at::Tensor& b) {
  return (a - b).norm().item<double>() / std::max(b.norm().item<double>(), 1e-300);
}

struct Fixture {
  ModelConfig config;
  testing::Weights weights;
  sharding::LocalCommunicator tp{"tp"};
  std::unique_ptr<Transformer> model;

  explicit Fixture(ModelConfig c, uint64_t seed = 7) : config(std::move(c)) {
    weights = testing::random_llama(config, seed);
    InMemoryWeightSource src(weights, model_dims(config), at::kDouble);
    model = std::make_unique<Transformer>(config, src, tp);
  }
};

at::Tensor random_ids(int64_t b, int64_t t, int64_t vocab, uint64_t seed) {
  auto g = at::make_generator<at::CPUGeneratorImpl>(seed);
  return at::randint(vocab, {b, t}, g, at::kLong);
}

TEST(Rope, InverseFrequenciesFollowTheLlama3Rule) {
  ModelConfig c = testing::tiny_llama_config();
  c.head_dim = 16;
  const std::vector<double> expected = testing::reference_inv_freq(c);
  const at::Tensor got = rope_inv_freq(c.head_dim, c.rope_theta, c.rope_scaling);
  ASSERT_EQ(got.numel(), static_cast<int64_t>(expected.size()));
  for (size_t i = 0; i < expected.size(); ++i) EXPECT_NEAR(got[i].item<double>(), expected[i], 1e-15 * expected[i]);
  // The three bands all occur with these numbers (original context 64):
  // wavelength < 16 kept, > 64 slowed by `factor`, interpolated between.
  const RopeScaling none;
  const at::Tensor plain = rope_inv_freq(c.head_dim, c.rope_theta, none);
  EXPECT_DOUBLE_EQ(got[1].item<double>(), plain[1].item<double>());
  EXPECT_NEAR(got[7].item<double>(), plain[7].item<double>() / 8, 1e-18);
  const double mid = got[2].item<double>(), mid_plain = plain[2].item<double>();
  EXPECT_LT(mid, mid_plain);
  EXPECT_GT(mid, mid_plain / 8);
}

TEST(Rope, RotationMatchesExplicitPairs) {
  ModelConfig c = testing::tiny_llama_config();
  auto g = at::make_generator<at::CPUGeneratorImpl>(3);
  const at::Tensor x = at::randn({5, 3, c.head_dim}, g, at::kDouble);  // [T, H, d]
  RotaryEmbedding rope(c.head_dim, c.rope_theta, c.rope_scaling);
  const auto [cos_t, sin_t] = rope.cos_sin(at::arange(5, at::kLong).view({1, 5}), at::kDouble);
  const at::Tensor got = apply_rotary(x.transpose(0, 1).unsqueeze(0), cos_t, sin_t).squeeze(0).transpose(0, 1);
  EXPECT_LT(rel_err(got, testing::reference_rope(x, testing::reference_inv_freq(c))), 1e-14);
}

TEST(Transformer, LlamaLogitsMatchReference) {
  for (bool tied : {false, true}) {
    Fixture f(testing::tiny_llama_config(tied, /*bias=*/!tied));
    const at::Tensor ids = random_ids(2, 9, f.config.vocab_size, 1);
    const at::Tensor logits = f.model->forward(ids);
    ASSERT_EQ(logits.sizes(), (std::vector<int64_t>{2, 9, f.config.vocab_size}));
    for (int64_t b = 0; b < 2; ++b) {
      EXPECT_LT(rel_err(logits[b], testing::reference_llama(f.config, f.weights, ids[b])), 1e-12) << "tied " << tied;
    }
  }
}

TEST(Transformer, RightPaddedBatchEqualsSingleSequences) {
  Fixture f(testing::tiny_llama_config());
  const at::Tensor ids = random_ids(3, 8, f.config.vocab_size, 2);
  const std::vector<int64_t> lengths = {8, 5, 1};
  at::Tensor mask = at::zeros({3, 8}, at::kLong);
  for (int64_t b = 0; b < 3; ++b) mask[b].narrow(0, 0, lengths[b]).fill_(1);
  ForwardOptions opts;
  opts.attention_mask = mask;
  const at::Tensor logits = f.model->forward(ids.masked_fill(mask == 0, 0), opts);
  for (int64_t b = 0; b < 3; ++b) {
    const at::Tensor row = ids[b].narrow(0, 0, lengths[b]);
    EXPECT_LT(rel_err(logits[b].narrow(0, 0, lengths[b]), testing::reference_llama(f.config, f.weights, row)), 1e-12);
  }
}

TEST(Transformer, KvCacheContinuationEqualsFullForward) {
  Fixture f(testing::tiny_llama_config());
  const at::Tensor ids = random_ids(2, 9, f.config.vocab_size, 3);
  const at::Tensor full = f.model->forward(ids);
  KvCache cache;
  ForwardOptions opts;
  opts.cache = &cache;
  std::vector<at::Tensor> pieces = {f.model->forward(ids.narrow(1, 0, 4), opts)};
  for (int64_t t = 4; t < 9; t += 2) pieces.push_back(f.model->forward(ids.narrow(1, t, std::min<int64_t>(2, 9 - t)), opts));
  EXPECT_EQ(cache.length(), 9);
  EXPECT_LT(rel_err(at::cat(pieces, 1), full), 1e-12);
}

TEST(Hooks, CapturedKeysAndDeltaGradientMatchReference) {
  Fixture f(testing::tiny_llama_config());
  const at::Tensor ids = random_ids(1, 7, f.config.vocab_size, 4);
  auto g = at::make_generator<at::CPUGeneratorImpl>(5);
  const at::Tensor delta0 = at::randn({f.config.hidden_size}, g, at::kDouble);
  const at::Tensor weight = at::randn({7, f.config.vocab_size}, g, at::kDouble);

  ReferenceExtras ex;
  ex.capture_layer = 1;
  ex.delta_layer = 0;
  ex.delta_pos = 3;
  ex.delta = delta0.clone().requires_grad_(true);
  const at::Tensor ref = testing::reference_llama(f.config, f.weights, ids[0], &ex);
  (ref * weight).sum().backward();

  Hooks hooks;
  const size_t key = hooks.capture_input(1, "mlp.down_proj", {{0, 2}, {0, 6}});
  const at::Tensor delta = delta0.clone().requires_grad_(true);
  hooks.add_to_block_output(0, {{0, 3}}, delta);
  ForwardOptions opts;
  opts.hooks = &hooks;
  const at::Tensor logits = f.model->forward(ids, opts);
  (logits[0] * weight).sum().backward();

  EXPECT_LT(rel_err(logits[0], ref), 1e-12);
  const CapturedInput& cap = hooks.captured(key);
  EXPECT_TRUE(cap.split);  // down_proj is row-parallel: its input is split over tp
  EXPECT_LT(rel_err(cap.full(), ex.captured.index_select(0, at::tensor({2, 6}, at::kLong))), 1e-12);
  EXPECT_LT(rel_err(delta.grad(), ex.delta.grad()), 1e-10);
}

TEST(Transformer, PassSplitAfterABlockEqualsTheWholePass) {
  // stream_after + hidden_after (the v* optimisation's pass) against forward, on a
  // right-padded batch; a delta added to the stream between the two parts against
  // the reference's delta at that block, value and gradient.
  Fixture f(testing::tiny_llama_config());
  const at::Tensor ids = random_ids(2, 7, f.config.vocab_size, 6);
  at::Tensor mask = at::ones({2, 7}, at::kLong);
  mask[1].narrow(0, 4, 3).fill_(0);
  ForwardOptions opts;
  opts.attention_mask = mask;
  const at::Tensor full = f.model->forward(ids, opts);
  for (int64_t layer = 0; layer < f.model->num_layers(); ++layer) {
    const at::Tensor stream = f.model->stream_after(ids, layer, opts);
    EXPECT_EQ(stream.sizes(), (at::IntArrayRef{2, 7, f.config.hidden_size}));
    EXPECT_LT(rel_err(f.model->logits(f.model->hidden_after(layer, stream, opts)), full), 1e-12) << "after block " << layer;
  }

  auto g = at::make_generator<at::CPUGeneratorImpl>(8);
  const at::Tensor delta0 = at::randn({f.config.hidden_size}, g, at::kDouble);
  const at::Tensor weight = at::randn({7, f.config.vocab_size}, g, at::kDouble);
  ReferenceExtras ex;
  ex.delta_layer = 0;
  ex.delta_pos = 3;
  ex.delta = delta0.clone().requires_grad_(true);
  const at::Tensor ref = testing::reference_llama(f.config, f.weights, ids[0], &ex);
  (ref * weight).sum().backward();

  const at::Tensor delta = delta0.clone().requires_grad_(true);
  const at::Tensor stream = f.model->stream_after(ids.narrow(0, 0, 1), 0);
  at::Tensor bump = at::zeros_like(stream);
  bump[0][3] = 1.0;
  const at::Tensor logits = f.model->logits(f.model->hidden_after(0, stream + bump * delta));
  (logits[0] * weight).sum().backward();
  EXPECT_LT(rel_err(logits[0], ref), 1e-12);
  EXPECT_LT(rel_err(delta.grad(), ex.delta.grad()), 1e-10);

  KvCache cache;
  ForwardOptions cached;
  cached.cache = &cache;
  EXPECT_THROW(f.model->stream_after(ids, 0, cached), std::exception);
  EXPECT_THROW(f.model->hidden_after(0, stream, cached), std::exception);
  EXPECT_THROW(f.model->stream_after(ids, f.model->num_layers()), std::exception);
  EXPECT_THROW(f.model->hidden_after(0, stream.select(0, 0)), std::exception);
}

TEST(Hooks, RejectUnknownModulesAndPositions) {
  Fixture f(testing::tiny_llama_config());
  const at::Tensor ids = random_ids(1, 4, f.config.vocab_size, 6);
  ForwardOptions opts;
  Hooks bad_module;
  bad_module.capture_input(0, "mlp.down", {{0, 0}});
  opts.hooks = &bad_module;
  EXPECT_THROW(f.model->forward(ids, opts), revive::Error);
  Hooks bad_pos;
  bad_pos.capture_input(0, "mlp.down_proj", {{0, 4}});
  opts.hooks = &bad_pos;
  EXPECT_THROW(f.model->forward(ids, opts), revive::Error);
  Hooks bad_layer;
  bad_layer.add_to_block_output(2, {{0, 0}}, at::zeros({f.config.hidden_size}, at::kDouble));
  opts.hooks = &bad_layer;
  EXPECT_THROW(f.model->forward(ids, opts), revive::Error);
}

TEST(Transformer, ModuleNamesResolveToWeights) {
  Fixture f(testing::tiny_llama_config());
  const ModuleRef ref = f.model->parse_module("model.layers.1.mlp.down_proj.weight");
  EXPECT_EQ(ref.layer, 1);
  EXPECT_EQ(ref.module, "mlp.down_proj");
  EXPECT_EQ(f.model->module_name(ref), "model.layers.1.mlp.down_proj");
  EXPECT_TRUE(at::equal(f.model->linear_weight("model.layers.1.mlp.down_proj").full(),
                        f.weights.at("model.layers.1.mlp.down_proj.weight")));
  EXPECT_THROW(f.model->parse_module("model.layers.2.mlp.down_proj"), revive::Error);
  EXPECT_THROW(f.model->parse_module("model.layers.x.mlp.down_proj"), revive::Error);
  EXPECT_THROW(f.model->linear_weight("model.layers.0.mlp.nothing"), revive::Error);
}

TEST(LogProbs, ContinuationScoresMatchReference) {
  Fixture f(testing::tiny_llama_config());
  const std::vector<Continuation> items = {{{1, 5, 9}, {3, 4}}, {{1}, {7, 8, 2, 30}}, {{1, 2, 3, 4, 5}, {6}}};
  const std::vector<ContinuationScore> got = score_continuations(*f.model, items, /*batch_size=*/2);
  ASSERT_EQ(got.size(), items.size());
  for (size_t i = 0; i < items.size(); ++i) {
    std::vector<int64_t> seq = items[i].prompt;
    seq.insert(seq.end(), items[i].target.begin(), items[i].target.end());
    const at::Tensor logp = at::log_softmax(testing::reference_llama(f.config, f.weights, at::tensor(seq, at::kLong)), -1);
    double sum = 0;
    for (size_t j = 0; j < items[i].target.size(); ++j) {
      const int64_t at_pos = static_cast<int64_t>(items[i].prompt.size() + j);
      sum -= logp[at_pos - 1][seq[static_cast<size_t>(at_pos)]].item<double>();
    }
    EXPECT_NEAR(got[i].sum_nll, sum, 1e-10 * std::abs(sum));
    EXPECT_EQ(got[i].num_tokens, static_cast<int64_t>(items[i].target.size()));
    EXPECT_NEAR(got[i].mean_nll, sum / static_cast<double>(items[i].target.size()), 1e-10 * std::abs(sum));
  }
}

}  // namespace
}  // namespace revive::model
