// The autograd TP collectives: a column-parallel then row-parallel MLP built
// from them gives the unsharded outputs and gradients (Megatron's f/g pairing).
#include <ATen/ATen.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "sharding/sharded_tensor.h"
#include "sharding/tp/mappings.h"
#include "tests/support/test_world.h"

namespace revive::sharding {
namespace {

using revive::testing::world;

struct Problem {
  at::Tensor x, a, b, w;  // x [4, 5], a [7, 5] (HF [out,in]), b [3, 7], w [4, 3]
};

Problem make_problem() {
  auto g = at::make_generator<at::CPUGeneratorImpl>(1234);
  auto opts = at::TensorOptions().dtype(at::kDouble);
  return {at::randn({4, 5}, g, opts), at::randn({7, 5}, g, opts), at::randn({3, 7}, g, opts),
          at::randn({4, 3}, g, opts)};
}

TEST(TpMappings, ColumnThenRowParallelMatchesUnsharded) {
  Communicator& tp = world();
  Problem p = make_problem();

  // Reference on one process.
  at::Tensor x = p.x.clone().requires_grad_(true);
  at::Tensor a = p.a.clone().requires_grad_(true);
  at::Tensor b = p.b.clone().requires_grad_(true);
  at::Tensor y_ref = at::gelu(x.matmul(a.t())).matmul(b.t());
  (y_ref * p.w).sum().backward();

  // Sharded: A column-parallel (out rows split, 7 is uneven over 2 and 4), B
  // row-parallel (its in columns split the same way).
  ShardedTensor a_sh = ShardedTensor::from_full(p.a, Layout::kColumn, tp);
  ShardedTensor b_sh = ShardedTensor::from_full(p.b, Layout::kRow, tp);
  at::Tensor xs = p.x.clone().requires_grad_(true);
  at::Tensor al = a_sh.local().clone().requires_grad_(true);
  at::Tensor bl = b_sh.local().clone().requires_grad_(true);
  at::Tensor h = at::gelu(copy_to_tp_region(xs, tp).matmul(al.t()));
  at::Tensor y = reduce_from_tp_region(h.matmul(bl.t()), tp);
  (y * p.w).sum().backward();

  EXPECT_TRUE(at::allclose(y, y_ref, 1e-12, 1e-12));
  EXPECT_TRUE(at::allclose(xs.grad(), x.grad(), 1e-12, 1e-12));
  const ShardSpec& as = a_sh.spec();
  const ShardSpec& bs = b_sh.spec();
  EXPECT_TRUE(at::allclose(al.grad(), a.grad().narrow(0, as.offset, as.length), 1e-12, 1e-12));
  EXPECT_TRUE(at::allclose(bl.grad(), b.grad().narrow(1, bs.offset, bs.length), 1e-12, 1e-12));
}

TEST(TpMappings, ScatterAndGatherAreAdjoint) {
  Communicator& tp = world();
  Problem p = make_problem();
  // Reference: y = (x A^T) * w summed; through scatter/gather the result must be identical.
  at::Tensor x = p.x.clone().requires_grad_(true);
  (x.matmul(p.a.t()).pow(2).sum()).backward();

  at::Tensor xs = p.x.clone().requires_grad_(true);
  at::Tensor y_local = scatter_to_tp_region(xs.matmul(p.a.t()), tp);  // own slice of the 7 outputs
  const Range r = shard_range(7, tp.rank(), tp.size());
  EXPECT_EQ(y_local.size(-1), r.size);
  at::Tensor y_full = gather_from_tp_region(y_local, tp);
  EXPECT_TRUE(at::allclose(y_full, p.x.matmul(p.a.t())));
  y_full.pow(2).sum().backward();
  // Every rank's gather backward keeps its own slice; scatter backward gathers them.
  EXPECT_TRUE(at::allclose(xs.grad(), x.grad(), 1e-12, 1e-12));
}

TEST(ShardedTensor, FromFullAndBackForEveryLayout) {
  Communicator& tp = world();
  Problem p = make_problem();
  for (Layout l : {Layout::kReplicated, Layout::kColumn, Layout::kRow, Layout::kVocab}) {
    ShardedTensor s = ShardedTensor::from_full(p.a, l, tp);
    EXPECT_TRUE(at::equal(s.full(), p.a)) << to_string(l);
    EXPECT_EQ(&s.reduce_group(), &tp);
  }
}

}  // namespace
}  // namespace revive::sharding
