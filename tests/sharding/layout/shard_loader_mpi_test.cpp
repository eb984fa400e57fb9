// Every rank of the world (as the tp group) loads its shard of every parameter
// with load_shard_parts, reading only its slice. Each shard must equal the
// piece ShardedTensor::from_full cuts from the full tensor (read whole and, for
// GPT-2, transposed and split into q|k|v here), and gathering the shards must
// give the full tensor back. Runs under np 1, 2, 4.
#include <ATen/ATen.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <fstream>

#include "sharding/layout/shard_loader.h"
#include "tests/support/fixtures.h"
#include "tests/support/test_world.h"

namespace revive::sharding {
namespace {

// The reference for part `p` of `name`: the stored tensor as HF's nn.Linear
// would hold it.
at::Tensor reference_part(const CheckpointReader& ckpt, const std::string& name, const ParamLayout& layout, int p) {
  at::Tensor t = ckpt.read(name, at::kFloat);
  if (layout.transpose && t.dim() == 2) t = t.t();
  return layout.parts > 1 ? t.chunk(layout.parts, 0)[p].contiguous() : t.contiguous();
}

void expect_shards_match(const CheckpointReader& ckpt, const ModelDims& dims, const std::vector<std::string>& names) {
  Communicator& tp = revive::testing::world();
  for (const auto& name : names) {
    const ParamLayout layout = param_layout(name, dims);
    const std::vector<ShardedTensor> parts = load_shard_parts(ckpt, name, dims, tp, at::kFloat);
    ASSERT_EQ(static_cast<int64_t>(parts.size()), layout.parts) << name;
    for (int p = 0; p < layout.parts; ++p) {
      const at::Tensor ref = reference_part(ckpt, name, layout, p);
      const ShardedTensor expected = ShardedTensor::from_full(ref, layout.layout, tp);
      EXPECT_EQ(parts[p].spec().global_shape, ref.sizes().vec()) << name;
      EXPECT_EQ(parts[p].spec().offset, expected.spec().offset) << name;
      EXPECT_TRUE(at::equal(parts[p].local(), expected.local())) << name << " part " << p << " rank " << tp.rank();
      EXPECT_TRUE(at::equal(parts[p].full(), ref)) << name << " part " << p;
      // Head-granular splits hold whole heads on every rank.
      if (layout.granule > 1 && parts[p].spec().dim >= 0) {
        EXPECT_EQ(parts[p].spec().offset % layout.granule, 0) << name;
        EXPECT_EQ(parts[p].spec().length % layout.granule, 0) << name;
      }
    }
  }
}

TEST(ShardLoaderMpiTest, SyntheticLlamaWithGqaBiasesAndUnevenSplits) {
  ModelDims d;
  d.arch = Arch::kLlama;
  d.vocab_size = 30;         // 8, 8, 7, 7 over 4 ranks
  d.hidden_size = 16;
  d.intermediate_size = 13;  // 4, 3, 3, 3
  d.num_layers = 2;
  d.num_heads = 8;
  d.num_kv_heads = 4;
  d.head_dim = 2;
  ParamNameOptions opts;
  opts.attention_bias = true;
  opts.mlp_bias = true;
  const std::vector<std::string> names = parameter_names(d, opts);
  at::manual_seed(5);  // the same checkpoint on every rank
  NamedTensors tensors;
  for (const auto& n : names) tensors.emplace_back(n, at::randn(param_layout(n, d).stored_shape).to(at::kBFloat16));
  const std::string dir = revive::testing::temp_dir("shards");
  write_checkpoint(dir, tensors, /*max_shard_bytes=*/1024);
  CheckpointReader ckpt(dir);
  ASSERT_GT(ckpt.files().size(), 1u);
  expect_shards_match(ckpt, d, names);
}

TEST(ShardLoaderMpiTest, SyntheticGpt2ConvAndFusedQkv) {
  ModelDims d;
  d.arch = Arch::kGpt2;
  d.vocab_size = 10;
  d.hidden_size = 8;
  d.intermediate_size = 12;
  d.num_layers = 2;
  d.num_heads = 4;
  d.num_kv_heads = 4;
  d.head_dim = 2;
  d.max_positions = 6;
  const std::vector<std::string> names = parameter_names(d, {/*tie_word_embeddings=*/true});
  at::manual_seed(6);
  NamedTensors tensors;
  for (const auto& n : names) tensors.emplace_back(n, at::randn(param_layout(n, d).stored_shape));
  const std::string dir = revive::testing::temp_dir("shards");
  write_checkpoint(dir, tensors);
  CheckpointReader ckpt(dir);
  expect_shards_match(ckpt, d, names);
}

TEST(ShardLoaderMpiTest, Stories260K) {
  REVIVE_REQUIRE_DATA(dir, "stories260K-hf");
  std::ifstream in(dir + "/config.json");
  const nlohmann::json c = nlohmann::json::parse(in);
  ModelDims d;
  d.arch = Arch::kLlama;
  d.vocab_size = c["vocab_size"].get<int64_t>();
  d.hidden_size = c["hidden_size"].get<int64_t>();
  d.intermediate_size = c["intermediate_size"].get<int64_t>();
  d.num_layers = c["num_hidden_layers"].get<int64_t>();
  d.num_heads = c["num_attention_heads"].get<int64_t>();
  d.num_kv_heads = c["num_key_value_heads"].get<int64_t>();
  d.head_dim = d.hidden_size / d.num_heads;
  CheckpointReader ckpt(dir);
  expect_shards_match(ckpt, d, ckpt.names());
}

}  // namespace
}  // namespace revive::sharding
