// The protected basis, the REVIVE filter and the drift metrics on sharded
// weights equal their single-process results (np 1, 2, 4; uneven shards).
#include "lib/spectral/revive_filter.h"

#include <gtest/gtest.h>

#include <ATen/ATen.h>

#include <filesystem>
#include <unistd.h>

#include "lib/spectral/drift_metrics.h"
#include "sharding/checkpoint/file_tree.h"
#include "sharding/comm/local_communicator.h"
#include "sharding/errors.h"
#include "tests/spectral/spectral_fixtures.h"
#include "tests/support/test_world.h"

namespace revive::spectral {
namespace {

using sharding::Layout;
using sharding::LocalCommunicator;
using sharding::ShardedTensor;

constexpr int64_t kOut = 47, kIn = 66;  // uneven over 2 and 4 ranks

at::Tensor weight() {
  return testing::matrix_with_spectrum(kOut, kIn, testing::singular_values(testing::Spectrum::kSlowDecay, kOut), 91);
}

SvdOptions energy_options() {
  SvdOptions o;
  o.energy = 0.5;
  return o;
}

// This rank's piece of a full matrix laid out like `w`.
at::Tensor shard_like(const at::Tensor& full, const ShardedTensor& w) {
  const auto& spec = w.spec();
  return spec.dim < 0 ? full : full.narrow(spec.dim, spec.offset, spec.length).contiguous();
}
at::Tensor rows_like(const at::Tensor& full, const ShardedTensor& factor) {
  return factor.spec().dim < 0 ? full : full.narrow(0, factor.spec().offset, factor.spec().length).contiguous();
}

class FilterMpi : public ::testing::TestWithParam<Layout> {};

TEST_P(FilterMpi, DenseAndFactoredEqualSerial) {
  LocalCommunicator self;
  const at::Tensor full = weight();
  const ProtectedBasis serial = ProtectedBasis::compute(ShardedTensor::from_full(full, Layout::kReplicated, self), "w",
                                                        energy_options());
  const ShardedTensor w = ShardedTensor::from_full(full, GetParam(), revive::testing::world());
  const ProtectedBasis dist = ProtectedBasis::compute(w, "w", energy_options());
  ASSERT_EQ(dist.k(), serial.k());
  EXPECT_EQ(dist.checksum(), serial.checksum());

  const at::Tensor dw = gaussian_sketch_rows(5, 0, kOut, kIn);
  const at::Tensor expected = ReviveFilter(serial).apply(dw);
  const ReviveFilter filter(dist);
  const at::Tensor safe_local = filter.apply(shard_like(dw, w));
  EXPECT_LT(testing::rel_diff(safe_local, shard_like(expected, w)), 1e-10);
  // Invariants on the gathered result.
  const at::Tensor safe = ShardedTensor(safe_local, w.spec(), revive::testing::world()).full();
  EXPECT_LT(at::matmul(dist.u().full().t(), safe).abs().max().item<double>(), 1e-12);
  EXPECT_LT(at::matmul(safe, dist.v().full()).abs().max().item<double>(), 1e-12);

  // Factored: R like the weight's rows, X like its columns.
  const at::Tensor r = gaussian_sketch_rows(6, 0, kOut, 3), x = gaussian_sketch_rows(7, 0, kIn, 3);
  const FactoredUpdate serial_f = ReviveFilter(serial).apply(FactoredUpdate{r, x});
  const FactoredUpdate dist_f = filter.apply(FactoredUpdate{rows_like(r, dist.u()), rows_like(x, dist.v())});
  EXPECT_LT(testing::rel_diff(dist_f.r, rows_like(serial_f.r, dist.u())), 1e-10);
  EXPECT_LT(testing::rel_diff(dist_f.x, rows_like(serial_f.x, dist.v())), 1e-10);
  // Factored == dense, shard by shard.
  EXPECT_LT(testing::rel_diff(at::matmul(dist_f.r, dist_f.x.t()), filter.apply(at::matmul(rows_like(r, dist.u()),
                                                                                          rows_like(x, dist.v()).t()))),
            1e-12);

  // The one-sided and block variants, dense and factored, equal serial too.
  for (ProtectedSides sides : {ProtectedSides::kOutput, ProtectedSides::kInput, ProtectedSides::kBlock}) {
    SCOPED_TRACE(to_string(sides));
    const ReviveFilter serial_side(serial, sides), dist_side(dist, sides);
    EXPECT_LT(testing::rel_diff(dist_side.apply(shard_like(dw, w)), shard_like(serial_side.apply(dw), w)), 1e-10);
    const FactoredUpdate sf = serial_side.apply(FactoredUpdate{r, x});
    const FactoredUpdate df = dist_side.apply(FactoredUpdate{rows_like(r, dist.u()), rows_like(x, dist.v())});
    EXPECT_LT(testing::rel_diff(df.r, rows_like(sf.r, dist.u())), 1e-10);
    EXPECT_LT(testing::rel_diff(df.x, rows_like(sf.x, dist.v())), 1e-10);
  }
}

TEST_P(FilterMpi, BasisSavedShardedLoadsUnderAnyLayout) {
  auto& world = revive::testing::world();
  const at::Tensor full = weight().to(at::kFloat);
  const ShardedTensor w = ShardedTensor::from_full(full, GetParam(), world);
  SvdOptions o;
  o.rsvd.rank = 6;
  o.engine = SvdEngine::kGramEigen;
  const ProtectedBasis b = ProtectedBasis::compute(w, "layers.0.w", o);
  // One path for all ranks: rank 0's process id.
  at::Tensor pid = at::full({1}, static_cast<int64_t>(::getpid()), at::kLong);
  world.broadcast(pid);
  const std::string dir = "/tmp/revive_spectral_mpi_" + std::to_string(pid.item<int64_t>());
  if (world.rank() == 0) std::filesystem::create_directories(dir);
  world.barrier();
  const std::string path = dir + "/basis.safetensors";
  b.save(path);
  for (Layout other : {Layout::kColumn, Layout::kRow, Layout::kReplicated}) {
    const ShardedTensor w2 = ShardedTensor::from_full(full, other, world);
    const ProtectedBasis back = ProtectedBasis::load(path, w2, "layers.0.w");
    EXPECT_EQ(back.k(), 6);
    EXPECT_TRUE(at::equal(back.u().full(), b.u().full()));
    EXPECT_TRUE(at::equal(back.v().full(), b.v().full()));
    EXPECT_EQ(back.u().spec().dim, other == Layout::kColumn ? 0 : -1);
    EXPECT_EQ(back.v().spec().dim, other == Layout::kRow ? 0 : -1);
  }
  at::Tensor edited = full.clone();
  edited[kOut - 1][kIn - 1] += 0.5f;  // an entry owned by the last rank only
  EXPECT_THROW(ProtectedBasis::load(path, ShardedTensor::from_full(edited, GetParam(), world), "layers.0.w"),
               InputError);
  world.barrier();
  if (world.rank() == 0) sharding::remove_tree(dir);
}

TEST_P(FilterMpi, DriftEqualsSerial) {
  LocalCommunicator self;
  const at::Tensor full = weight();
  const at::Tensor edited = full + 0.05 * at::matmul(gaussian_sketch_rows(8, 0, kOut, 2), gaussian_sketch_rows(9, 0, kIn, 2).t());
  SvdOptions o;
  o.rsvd.rank = 5;
  o.engine = SvdEngine::kGramEigen;
  const ProtectedBasis serial = ProtectedBasis::compute(ShardedTensor::from_full(full, Layout::kReplicated, self), "w", o);
  const DriftMetrics ds = spectral_drift(serial, ShardedTensor::from_full(edited, Layout::kReplicated, self), o);
  const ProtectedBasis dist = ProtectedBasis::compute(ShardedTensor::from_full(full, GetParam(), revive::testing::world()), "w", o);
  const DriftMetrics dd = spectral_drift(dist, ShardedTensor::from_full(edited, GetParam(), revive::testing::world()), o);
  EXPECT_NEAR(dd.subspace_similarity_u, ds.subspace_similarity_u, 1e-10);
  EXPECT_NEAR(dd.subspace_similarity_v, ds.subspace_similarity_v, 1e-10);
  EXPECT_NEAR(dd.energy_weighted_similarity_u, ds.energy_weighted_similarity_u, 1e-10);
  EXPECT_NEAR(dd.protected_energy_share, ds.protected_energy_share, 1e-10);
  EXPECT_NEAR(dd.frobenius_growth, ds.frobenius_growth, 1e-12);
  EXPECT_LT(testing::rel_diff(dd.direction_cos_v, ds.direction_cos_v), 1e-9);
  EXPECT_LT(ds.subspace_similarity_u, 1.0 - 1e-6);
}

INSTANTIATE_TEST_SUITE_P(Layouts, FilterMpi, ::testing::Values(Layout::kColumn, Layout::kRow),
                         [](const auto& info) { return std::string(sharding::to_string(info.param)); });

}  // namespace
}  // namespace revive::spectral
