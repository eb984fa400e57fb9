// Distributed truncated SVD == single-process truncated SVD, for both shard
// layouts, both engines, uneven shards; run under mpirun -np 1, 2, 4.
#include "lib/spectral/truncated_svd.h"

#include <gtest/gtest.h>

#include <ATen/ATen.h>

#include <tuple>

#include "tests/spectral/spectral_fixtures.h"
#include "tests/support/test_world.h"

namespace revive::spectral {
namespace {

using sharding::Layout;
using sharding::ShardedTensor;
using sharding::ShardSpec;

// Every rank's copy of a replicated tensor is bitwise the same.
void expect_identical_on_all_ranks(const at::Tensor& t) {
  auto& world = revive::testing::world();
  const at::Tensor all = world.all_gather(t.contiguous().reshape({1, -1}));
  for (int r = 1; r < world.size(); ++r) EXPECT_TRUE(at::equal(all[r], all[0])) << "rank " << r << " differs";
}

void expect_matches_serial(const at::Tensor& full, const ShardedTensor& w, const SvdOptions& opts) {
  const SvdResult serial = truncated_svd(full, opts);
  const ShardedSvdResult dist = truncated_svd(w, opts);
  ASSERT_EQ(dist.k, serial.k);
  EXPECT_EQ(dist.engine, serial.engine);
  EXPECT_LT(testing::rel_diff(dist.s, serial.s), 1e-10);
  EXPECT_NEAR(dist.frobenius_sq, serial.frobenius_sq, 1e-12 * serial.frobenius_sq);
  EXPECT_LT(testing::rel_diff(dist.u.full(), serial.u), 1e-9);
  EXPECT_LT(testing::rel_diff(dist.v.full(), serial.v), 1e-9);
  // The split factor follows the weight's split; the other one is replicated.
  const bool rows_split = w.spec().dim == 0;
  EXPECT_EQ(dist.u.spec().dim, rows_split ? 0 : -1);
  EXPECT_EQ(dist.v.spec().dim, rows_split ? -1 : 0);
  EXPECT_EQ(dist.u.local().size(0), rows_split ? w.spec().length : full.size(0));
  EXPECT_EQ(dist.v.local().size(0), rows_split ? full.size(1) : w.spec().length);
  expect_identical_on_all_ranks(dist.s);
  expect_identical_on_all_ranks(rows_split ? dist.v.local() : dist.u.local());
}

using Case = std::tuple<Layout, SvdEngine, testing::Spectrum>;
class DistributedSvd : public ::testing::TestWithParam<Case> {};

TEST_P(DistributedSvd, EqualsSingleProcess) {
  const auto [layout, engine, spectrum] = GetParam();
  // Sizes that do not divide by 2 or 4: uneven shards; both orientations so
  // the Gram engine also takes the gather path (split side the smaller one).
  for (auto shape : {std::pair<int64_t, int64_t>{45, 83}, {83, 45}}) {
    const int64_t r = std::min(shape.first, shape.second);
    const at::Tensor full =
        testing::matrix_with_spectrum(shape.first, shape.second, testing::singular_values(spectrum, r), 61);
    const ShardedTensor w = ShardedTensor::from_full(full, layout, revive::testing::world());
    SvdOptions o;
    o.engine = engine;
    o.rsvd.rank = 9;
    o.rsvd.power_iters = 3;
    // The randomized engine's power steps on A and on the Gram (split by rows of G).
    for (PowerOperator op : {PowerOperator::kMatrix, PowerOperator::kGram}) {
      SCOPED_TRACE(to_string(op));
      o.rsvd.power_operator = op;
      expect_matches_serial(full, w, o);
      if (engine == SvdEngine::kGramEigen) break;
    }
    if (engine == SvdEngine::kGramEigen) {
      SvdOptions e;
      e.energy = 0.7;
      expect_matches_serial(full, w, e);
    }
  }
}

INSTANTIATE_TEST_SUITE_P(
    Layouts, DistributedSvd,
    ::testing::Combine(::testing::Values(Layout::kColumn, Layout::kRow),
                       ::testing::Values(SvdEngine::kGramEigen, SvdEngine::kRandomized),
                       ::testing::Values(testing::Spectrum::kFastDecay, testing::Spectrum::kSlowDecay)),
    [](const auto& info) {
      return std::string(sharding::to_string(std::get<0>(info.param))) + "_" + to_string(std::get<1>(info.param)) +
             "_" + testing::name(std::get<2>(info.param));
    });

TEST(DistributedSvd, UnbalancedShardsFollowTheWeight) {
  // Shard sizes 2r + 8 rows per rank (not the balanced split).
  auto& world = revive::testing::world();
  int64_t rows = 0, offset = 0;
  for (int r = 0; r < world.size(); ++r) {
    if (r < world.rank()) offset += 2 * r + 8;
    rows += 2 * r + 8;
  }
  const int64_t length = 2 * world.rank() + 8;
  const at::Tensor full = testing::matrix_with_spectrum(
      rows + 40, 30, testing::singular_values(testing::Spectrum::kSlowDecay, 30), 71).narrow(0, 0, rows).contiguous();
  for (Layout layout : {Layout::kColumn, Layout::kRow}) {
    const at::Tensor a = layout == Layout::kColumn ? full : full.t().contiguous();
    ShardSpec spec = ShardSpec::make(layout, a.sizes().vec(), world.rank(), world.size());
    spec.offset = offset;
    spec.length = length;
    const int64_t dim = spec.dim;
    const ShardedTensor w(a.narrow(dim, offset, length).contiguous(), spec, world);
    for (PowerOperator op : {PowerOperator::kAuto, PowerOperator::kMatrix, PowerOperator::kGram}) {
      SvdOptions o;
      o.engine = op == PowerOperator::kAuto ? SvdEngine::kGramEigen : SvdEngine::kRandomized;
      o.rsvd.power_operator = op;
      o.rsvd.rank = 5;
      expect_matches_serial(a, w, o);
      const ShardedSvdResult dist = truncated_svd(w, o);
      const ShardedTensor& split = layout == Layout::kColumn ? dist.u : dist.v;
      EXPECT_EQ(split.spec().offset, offset);
      EXPECT_EQ(split.spec().length, length);
    }
  }
}

TEST(DistributedSvd, ResultDoesNotDependOnTheLayout) {
  // Omega depends on (seed, global index) only: the randomized result of a
  // row-split, a column-split and a whole matrix agree.
  const at::Tensor full =
      testing::matrix_with_spectrum(60, 50, testing::singular_values(testing::Spectrum::kSlowDecay, 50), 81);
  for (PowerOperator op : {PowerOperator::kMatrix, PowerOperator::kGram}) {
  SCOPED_TRACE(to_string(op));
  SvdOptions o;
  o.engine = SvdEngine::kRandomized;
  o.rsvd.power_operator = op;
  o.rsvd.rank = 6;
  o.rsvd.power_iters = 1;  // far from converged: differences would show
  const ShardedSvdResult a = truncated_svd(ShardedTensor::from_full(full, Layout::kColumn, revive::testing::world()), o);
  const ShardedSvdResult b = truncated_svd(ShardedTensor::from_full(full, Layout::kRow, revive::testing::world()), o);
  const ShardedSvdResult c =
      truncated_svd(ShardedTensor::from_full(full, Layout::kReplicated, revive::testing::world()), o);
  EXPECT_LT(testing::rel_diff(a.s, c.s), 1e-10);
  EXPECT_LT(testing::rel_diff(b.s, c.s), 1e-10);
  EXPECT_LT(testing::rel_diff(a.u.full(), c.u.local()), 1e-9);
  EXPECT_LT(testing::rel_diff(b.v.full(), c.v.local()), 1e-9);
  }
}

}  // namespace
}  // namespace revive::spectral
