// GPT-2 through the checkpoint path: a tiny random GPT-2 written by the test
// as HF stores it (Conv1D weights [in, out], fused c_attn, tied embeddings,
// config.json), loaded with load_model and compared with the straightforward
// unsharded reference of reference_model.h.
#include <ATen/ATen.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <fstream>

#include "lib/model/hooks.h"
#include "lib/model/model_loader.h"
#include "sharding/checkpoint/safetensors.h"
#include "sharding/comm/local_communicator.h"
#include "tests/model/gpt2_checkpoint.h"
#include "tests/model/reference_model.h"
#include "tests/support/fixtures.h"

namespace revive::model {
namespace {

double gpt2_rel_err(const at::Tensor& a, const at::Tensor& b) {
  return (a - b).norm().item<double>() / b.norm().item<double>();
}

TEST(Gpt2, CheckpointForwardMatchesReference) {
  const ModelConfig config = testing::tiny_gpt2_config();
  const testing::Weights w = testing::random_gpt2(config, 11);
  for (bool prefixed : {true, false}) {
    const std::string dir = revive::testing::temp_dir("gpt2");
    testing::write_gpt2_checkpoint(dir, config, w, prefixed);
    sharding::LocalCommunicator tp("tp");
    LoadOptions opts;
    opts.dtype = at::kDouble;
    auto model = load_model(dir, tp, opts);
    auto g = at::make_generator<at::CPUGeneratorImpl>(2);
    const at::Tensor ids = at::randint(config.vocab_size, {2, 11}, g, at::kLong);
    const at::Tensor logits = model->forward(ids);
    for (int64_t b = 0; b < 2; ++b) {
      EXPECT_LT(gpt2_rel_err(logits[b], testing::reference_gpt2(config, w, ids[b])), 1e-12) << "prefixed " << prefixed;
    }
  }
}

// A config.json declaring fewer blocks than the checkpoint holds is refused,
// naming the field (the extra blocks would be dropped silently).
TEST(Gpt2, ACheckpointWithMoreBlocksThanItsConfigIsRefused) {
  const ModelConfig config = testing::tiny_gpt2_config();
  ASSERT_GE(config.num_layers, 2);
  ModelConfig fewer = config;
  fewer.num_layers = config.num_layers - 1;
  for (bool prefixed : {true, false}) {
    const std::string dir = revive::testing::temp_dir("gpt2-blocks");
    testing::write_gpt2_checkpoint(dir, fewer, testing::random_gpt2(config, 11), prefixed);
    sharding::LocalCommunicator tp("tp");
    try {
      load_model(dir, tp);
      ADD_FAILURE() << "loaded " << fewer.num_layers << " of " << config.num_layers << " blocks";
    } catch (const InputError& e) {
      EXPECT_NE(std::string(e.what()).find("config.json: n_layer"), std::string::npos) << e.what();
    }
  }
}

TEST(Gpt2, HooksCaptureMlpKeysAndTakeDeltas) {
  const ModelConfig config = testing::tiny_gpt2_config();
  const testing::Weights w = testing::random_gpt2(config, 12);
  const std::string dir = revive::testing::temp_dir("gpt2h");
  testing::write_gpt2_checkpoint(dir, config, w, true);
  sharding::LocalCommunicator tp("tp");
  LoadOptions opts;
  opts.dtype = at::kDouble;
  auto model = load_model(dir, tp, opts);
  auto g = at::make_generator<at::CPUGeneratorImpl>(3);
  const at::Tensor ids = at::randint(config.vocab_size, {1, 6}, g, at::kLong);
  const at::Tensor delta0 = at::randn({config.hidden_size}, g, at::kDouble);

  testing::ReferenceExtras ex;
  ex.capture_layer = 0;
  ex.delta_layer = 1;
  ex.delta_pos = 5;
  ex.delta = delta0.clone().requires_grad_(true);
  const at::Tensor ref = testing::reference_gpt2(config, w, ids[0], &ex);
  ref.logsumexp(-1).sum().backward();

  Hooks hooks;
  const size_t key = hooks.capture_input(0, "mlp.c_proj", {{0, 1}});
  const at::Tensor delta = delta0.clone().requires_grad_(true);
  hooks.add_to_block_output(1, {{0, 5}}, delta);
  ForwardOptions fwd;
  fwd.hooks = &hooks;
  const at::Tensor logits = model->forward(ids, fwd);
  logits[0].logsumexp(-1).sum().backward();
  EXPECT_LT(gpt2_rel_err(logits[0], ref), 1e-12);
  EXPECT_LT(gpt2_rel_err(hooks.captured(key).full()[0], ex.captured[1]), 1e-12);
  EXPECT_LT(gpt2_rel_err(delta.grad(), ex.delta.grad()), 1e-10);

  // The same pass split after the delta's block (the v* optimisation's pass).
  const at::Tensor split_delta = delta0.clone().requires_grad_(true);
  const at::Tensor stream = model->stream_after(ids, 1);
  at::Tensor bump = at::zeros_like(stream);
  bump[0][5] = 1.0;
  const at::Tensor split = model->logits(model->hidden_after(1, stream + bump * split_delta));
  split[0].logsumexp(-1).sum().backward();
  EXPECT_LT(gpt2_rel_err(split[0], ref), 1e-12);
  EXPECT_LT(gpt2_rel_err(split_delta.grad(), ex.delta.grad()), 1e-10);
}

}  // namespace
}  // namespace revive::model
