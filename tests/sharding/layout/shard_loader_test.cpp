// load_shard on one rank (LocalCommunicator): config checks on the stored
// shape, and GPT-2's Conv1D transpose and fused q|k|v split against a reference
// computed here from the raw stored tensor.
#include "sharding/layout/shard_loader.h"

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include "sharding/comm/local_communicator.h"
#include "sharding/errors.h"
#include "tests/support/fixtures.h"
#include "tests/support/input_error.h"

namespace revive::sharding {
namespace {

ModelDims loader_gpt2_dims() {
  ModelDims d;
  d.arch = Arch::kGpt2;
  d.vocab_size = 20;
  d.hidden_size = 8;
  d.intermediate_size = 32;
  d.num_layers = 1;
  d.num_heads = 2;
  d.num_kv_heads = 2;
  d.head_dim = 4;
  d.max_positions = 6;
  return d;
}

TEST(ShardLoaderTest, Gpt2ConvWeightsAreTransposedAndCAttnSplitIntoQkv) {
  const std::string dir = revive::testing::temp_dir("loader");
  at::manual_seed(11);
  const at::Tensor c_attn = at::randn({8, 24});  // Conv1D [in, out], out = q|k|v
  const at::Tensor c_attn_b = at::randn({24});
  const at::Tensor c_fc = at::randn({8, 32});
  write_checkpoint(dir, {{"transformer.h.0.attn.c_attn.weight", c_attn},
                         {"transformer.h.0.attn.c_attn.bias", c_attn_b},
                         {"transformer.h.0.mlp.c_fc.weight", c_fc}});
  CheckpointReader ckpt(dir);
  LocalCommunicator tp("tp");
  const auto parts = load_shard_parts(ckpt, "transformer.h.0.attn.c_attn.weight", loader_gpt2_dims(), tp, at::kFloat);
  ASSERT_EQ(parts.size(), 3u);
  for (int p = 0; p < 3; ++p) {
    // HF Conv1D computes x @ W + b, so the nn.Linear weight of part p is
    // W[:, 8p:8p+8]^T.
    const at::Tensor expected = c_attn.slice(1, 8 * p, 8 * (p + 1)).t();
    EXPECT_TRUE(at::equal(parts[p].local(), expected)) << p;
    EXPECT_EQ(parts[p].spec().global_shape, (std::vector<int64_t>{8, 8}));
    EXPECT_TRUE(parts[p].local().is_contiguous());
  }
  const auto bias = load_shard_parts(ckpt, "transformer.h.0.attn.c_attn.bias", loader_gpt2_dims(), tp, at::kFloat);
  for (int p = 0; p < 3; ++p) EXPECT_TRUE(at::equal(bias[p].local(), c_attn_b.slice(0, 8 * p, 8 * (p + 1))));
  const ShardedTensor fc = load_shard(ckpt, "transformer.h.0.mlp.c_fc.weight", loader_gpt2_dims(), tp, at::kDouble);
  EXPECT_TRUE(at::equal(fc.local(), c_fc.t().to(at::kDouble)));
  EXPECT_EQ(fc.layout(), Layout::kColumn);
  EXPECT_THROW(load_shard(ckpt, "transformer.h.0.attn.c_attn.weight", loader_gpt2_dims(), tp, at::kFloat), Error);
}

TEST(ShardLoaderTest, ShapeThatDoesNotMatchTheConfigNamesFileAndTensor) {
  const std::string dir = revive::testing::temp_dir("loader");
  write_checkpoint(dir, {{"transformer.h.0.mlp.c_fc.weight", at::zeros({8, 31})},
                         {"transformer.h.3.mlp.c_fc.weight", at::zeros({8, 32})},
                         {"transformer.h.0.mlp.c_fc.bias", at::zeros({32})}});
  CheckpointReader ckpt(dir);
  LocalCommunicator tp("tp");
  const std::string file = dir + "/model.safetensors";
  auto expect_error = [&](const std::string& name, const std::string& file_expected, const std::string& text) {
    ::revive::testing::expect_input_error([&] { load_shard(ckpt, name, loader_gpt2_dims(), tp, at::kFloat); },
                                          file_expected, name, text);
  };
  expect_error("transformer.h.0.mlp.c_fc.weight", file, "does not match config.json");
  expect_error("transformer.h.3.mlp.c_fc.weight", file, "1 layers");
  expect_error("transformer.h.0.mlp.c_proj.weight", dir, "not found");  // missing tensor
  EXPECT_NO_THROW(load_shard(ckpt, "transformer.h.0.mlp.c_fc.bias", loader_gpt2_dims(), tp, at::kFloat));
}

}  // namespace
}  // namespace revive::sharding
