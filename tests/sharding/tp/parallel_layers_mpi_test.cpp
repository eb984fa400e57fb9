// Column-, row- and vocab-parallel layers against their unsharded formulas:
// outputs and the gradients of the input and of each rank's weight shard equal
// the single-process ones (np 1, 2, 4; sizes chosen uneven over 2 and 4 ranks).
#include <ATen/ATen.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "sharding/errors.h"
#include "sharding/sharded_tensor.h"
#include "sharding/tp/column_parallel_linear.h"
#include "sharding/tp/row_parallel_linear.h"
#include "sharding/tp/vocab_parallel_embedding.h"
#include "tests/support/test_world.h"

namespace revive::sharding {
namespace {

using revive::testing::world;

constexpr double kTol = 1e-12;

at::Tensor randn(std::vector<int64_t> shape, uint64_t seed) {
  auto g = at::make_generator<at::CPUGeneratorImpl>(seed);
  return at::randn(shape, g, at::TensorOptions().dtype(at::kDouble));
}

// A shard of `full` with its local tensor made a fresh autograd leaf.
ShardedTensor trainable_shard(const at::Tensor& full, Layout layout, Communicator& tp) {
  ShardedTensor s = ShardedTensor::from_full(full, layout, tp);
  s.local() = s.local().clone().requires_grad_(true);
  return s;
}

TEST(ColumnParallelLinear, GatheredOutputAndGradientsMatchUnsharded) {
  Communicator& tp = world();
  const at::Tensor x0 = randn({2, 3, 5}, 1), a0 = randn({7, 5}, 2), b0 = randn({7}, 3), w = randn({2, 3, 7}, 4);

  at::Tensor x = x0.clone().requires_grad_(true), a = a0.clone().requires_grad_(true),
             b = b0.clone().requires_grad_(true);
  const at::Tensor y_ref = x.matmul(a.t()) + b;
  (y_ref * w).sum().backward();

  ColumnParallelLinear layer(trainable_shard(a0, Layout::kColumn, tp), trainable_shard(b0, Layout::kColumn, tp),
                             /*gather_output=*/true);
  at::Tensor xs = x0.clone().requires_grad_(true);
  const at::Tensor y = layer.forward(xs);
  (y * w).sum().backward();

  const ShardSpec& s = layer.weight().spec();
  EXPECT_TRUE(at::allclose(y, y_ref, kTol, kTol));
  EXPECT_TRUE(at::allclose(xs.grad(), x.grad(), kTol, kTol));
  EXPECT_TRUE(at::allclose(layer.weight().local().grad(), a.grad().narrow(0, s.offset, s.length), kTol, kTol));
  EXPECT_TRUE(at::allclose(layer.bias().local().grad(), b.grad().narrow(0, s.offset, s.length), kTol, kTol));
}

TEST(ColumnParallelLinear, SplitOutputIsThisRanksSlice) {
  Communicator& tp = world();
  const at::Tensor x = randn({4, 6}, 5), a = randn({9, 6}, 6);
  ColumnParallelLinear layer(ShardedTensor::from_full(a, Layout::kColumn, tp), ShardedTensor(), false);
  const Range r = shard_range(9, tp.rank(), tp.size());
  EXPECT_EQ(layer.out_features_local(), r.size);
  EXPECT_TRUE(at::allclose(layer.forward(x), x.matmul(a.t()).narrow(1, r.begin, r.size), kTol, kTol));
}

TEST(RowParallelLinear, ColumnThenRowMlpMatchesUnsharded) {
  Communicator& tp = world();
  const at::Tensor x0 = randn({3, 5}, 7), a0 = randn({7, 5}, 8), c0 = randn({4, 7}, 9), d0 = randn({4}, 10),
                   w = randn({3, 4}, 11);
  at::Tensor x = x0.clone().requires_grad_(true), a = a0.clone().requires_grad_(true),
             c = c0.clone().requires_grad_(true), d = d0.clone().requires_grad_(true);
  const at::Tensor y_ref = at::gelu(x.matmul(a.t())).matmul(c.t()) + d;
  (y_ref * w).sum().backward();

  ColumnParallelLinear up(trainable_shard(a0, Layout::kColumn, tp), ShardedTensor(), false);
  RowParallelLinear down(trainable_shard(c0, Layout::kRow, tp), d0.clone().requires_grad_(true));
  at::Tensor xs = x0.clone().requires_grad_(true);
  const at::Tensor y = down.forward(at::gelu(up.forward(xs)));
  (y * w).sum().backward();

  const ShardSpec& s = down.weight().spec();
  EXPECT_TRUE(at::allclose(y, y_ref, kTol, kTol));
  EXPECT_TRUE(at::allclose(xs.grad(), x.grad(), kTol, kTol));
  EXPECT_TRUE(at::allclose(down.weight().local().grad(), c.grad().narrow(1, s.offset, s.length), kTol, kTol));
  EXPECT_TRUE(at::allclose(down.bias().grad(), d.grad(), kTol, kTol));
}

TEST(RowParallelLinear, ReplicatedInputIsScattered) {
  Communicator& tp = world();
  const at::Tensor x0 = randn({3, 7}, 12), c0 = randn({4, 7}, 13), w = randn({3, 4}, 14);
  at::Tensor x = x0.clone().requires_grad_(true);
  const at::Tensor y_ref = x.matmul(c0.t());
  (y_ref * w).sum().backward();

  RowParallelLinear layer(ShardedTensor::from_full(c0, Layout::kRow, tp), at::Tensor(), /*input_is_parallel=*/false);
  at::Tensor xs = x0.clone().requires_grad_(true);
  const at::Tensor y = layer.forward(xs);
  (y * w).sum().backward();
  EXPECT_TRUE(at::allclose(y, y_ref, kTol, kTol));
  EXPECT_TRUE(at::allclose(xs.grad(), x.grad(), kTol, kTol));
}

TEST(VocabParallelEmbedding, LookupAndGradientMatchUnsharded) {
  Communicator& tp = world();
  const at::Tensor e0 = randn({11, 3}, 15), w = randn({2, 4, 3}, 16);
  const at::Tensor ids = at::tensor({0, 10, 5, 5, 3, 7, 1, 9}, at::kLong).view({2, 4});
  at::Tensor e = e0.clone().requires_grad_(true);
  const at::Tensor y_ref = at::embedding(e, ids);
  (y_ref * w).sum().backward();

  VocabParallelEmbedding layer(trainable_shard(e0, Layout::kVocab, tp));
  const at::Tensor y = layer.forward(ids);
  (y * w).sum().backward();
  const ShardSpec& s = layer.weight().spec();
  EXPECT_TRUE(at::allclose(y, y_ref, kTol, kTol));
  EXPECT_TRUE(at::allclose(layer.weight().local().grad(), e.grad().narrow(0, s.offset, s.length), kTol, kTol));
}

TEST(VocabParallelEmbedding, TiedLmHeadGivesFullLogits) {
  // The same vocab shard used as an LM head (ColumnParallelLinear, gathered).
  Communicator& tp = world();
  const at::Tensor e = randn({11, 3}, 17), h = randn({2, 3}, 18);
  ShardedTensor shard = ShardedTensor::from_full(e, Layout::kVocab, tp);
  ColumnParallelLinear head(shard, ShardedTensor(), true);
  EXPECT_TRUE(at::allclose(head.forward(h), h.matmul(e.t()), kTol, kTol));
}

TEST(ParallelLayers, RejectWrongLayouts) {
  Communicator& tp = world();
  const at::Tensor a = randn({4, 4}, 19);
  EXPECT_THROW(ColumnParallelLinear(ShardedTensor::from_full(a, Layout::kRow, tp), ShardedTensor(), false),
               revive::Error);
  EXPECT_THROW(RowParallelLinear(ShardedTensor::from_full(a, Layout::kColumn, tp), at::Tensor()), revive::Error);
  EXPECT_THROW(VocabParallelEmbedding(ShardedTensor::from_full(a, Layout::kRow, tp)), revive::Error);
  VocabParallelEmbedding emb(ShardedTensor::from_full(a, Layout::kVocab, tp));
  EXPECT_THROW(emb.forward(at::tensor({4}, at::kLong)), revive::Error);
}

}  // namespace
}  // namespace revive::sharding
