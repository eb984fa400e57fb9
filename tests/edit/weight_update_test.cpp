// WeightUpdate: factored and dense application against the explicit sum, NaN/Inf
// rejection before any write, shard slicing against the narrowed full update.
#include "lib/edit/weight_update.h"

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include "sharding/errors.h"
#include "tests/edit/edit_fixtures.h"

namespace revive::edit {
namespace {

using testing::randn;
using testing::rel_err;

TEST(WeightUpdate, FactoredApplyEqualsExplicitSum) {
  const at::Tensor r = randn({7, 3}, 1), x = randn({5, 3}, 2), w0 = randn({7, 5}, 3);
  const WeightUpdate u = WeightUpdate::factored("layer.0", r, x);
  EXPECT_TRUE(u.is_factored());
  EXPECT_EQ(u.rows(), 7);
  EXPECT_EQ(u.cols(), 5);
  at::Tensor w = w0.clone();
  u.apply_to(w);
  const at::Tensor ref = w0 + at::matmul(r, x.t());
  EXPECT_LT(rel_err(w, ref), 1e-14);
  EXPECT_LT(rel_err(u.materialize(), at::matmul(r, x.t())), 1e-15);
}

TEST(WeightUpdate, AppliesInTheWeightsDtype) {
  const at::Tensor r = randn({9, 2}, 4), x = randn({6, 2}, 5), w0 = randn({9, 6}, 6);
  const at::Tensor ref = w0 + at::matmul(r, x.t());
  for (auto dt : {at::kFloat, at::kBFloat16}) {
    at::Tensor w = w0.to(dt);
    WeightUpdate::factored("mlp", r, x).apply_to(w);
    EXPECT_EQ(w.scalar_type(), dt);
    EXPECT_LT(rel_err(w, ref), dt == at::kFloat ? 1e-6 : 1e-2) << c10::toString(dt);
  }
}

TEST(WeightUpdate, DenseApplyEqualsExplicitSum) {
  const at::Tensor dw = randn({4, 3}, 7), w0 = randn({4, 3}, 8);
  at::Tensor w = w0.clone();
  WeightUpdate::dense("d", dw).apply_to(w);
  EXPECT_LT(rel_err(w, w0 + dw), 1e-15);
}

TEST(WeightUpdate, NanOrInfIsRejectedAndTheWeightIsUnchanged) {
  const at::Tensor w0 = randn({6, 4}, 9);
  at::Tensor r = randn({6, 2}, 10), x = randn({4, 2}, 11), dw = randn({6, 4}, 12);
  r[3][1] = std::numeric_limits<double>::quiet_NaN();
  dw[0][2] = std::numeric_limits<double>::infinity();
  for (const WeightUpdate& u : {WeightUpdate::factored("model.layers.2.mlp.down_proj", r, x),
                                WeightUpdate::dense("model.layers.2.mlp.down_proj", dw)}) {
    at::Tensor w = w0.clone();
    try {
      u.apply_to(w);
      FAIL() << "expected rejection";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("model.layers.2.mlp.down_proj"), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find("NaN/Inf"), std::string::npos) << e.what();
    }
    EXPECT_TRUE(at::equal(w, w0));
    EXPECT_THROW(u.check_finite(), Error);
  }
}

TEST(WeightUpdate, ShapeMismatchIsRejectedBeforeWriting) {
  const at::Tensor w0 = randn({5, 5}, 13);
  at::Tensor w = w0.clone();
  EXPECT_THROW(WeightUpdate::factored("l", randn({5, 1}, 14), randn({4, 1}, 15)).apply_to(w), Error);
  EXPECT_TRUE(at::equal(w, w0));
  EXPECT_THROW(WeightUpdate::factored("l", randn({5, 2}, 14), randn({4, 3}, 15)), Error);
}

TEST(WeightUpdate, LocalShardIsTheNarrowedFullUpdate) {
  const at::Tensor r = randn({7, 3}, 16), x = randn({9, 3}, 17), dw = randn({7, 9}, 18);
  const WeightUpdate f = WeightUpdate::factored("l", r, x), d = WeightUpdate::dense("l", dw);
  for (int parts : {1, 2, 4}) {
    for (int rank = 0; rank < parts; ++rank) {
      for (auto layout : {sharding::Layout::kRow, sharding::Layout::kColumn, sharding::Layout::kReplicated}) {
        const auto spec = sharding::ShardSpec::make(layout, {7, 9}, rank, parts);
        const at::Tensor full = f.materialize();
        const at::Tensor expect = spec.dim < 0 ? full : full.narrow(spec.dim, spec.offset, spec.length);
        const WeightUpdate fs = f.local_shard(spec), ds = d.local_shard(spec);
        EXPECT_TRUE(fs.is_factored());
        EXPECT_LT(rel_err(fs.materialize(), expect), 1e-15);
        const at::Tensor dexp = spec.dim < 0 ? dw : dw.narrow(spec.dim, spec.offset, spec.length);
        EXPECT_TRUE(at::equal(ds.materialize(), dexp));
      }
    }
  }
  EXPECT_THROW(f.local_shard(sharding::ShardSpec::make(sharding::Layout::kRow, {7, 8}, 0, 2)), Error);
}

}  // namespace
}  // namespace revive::edit
