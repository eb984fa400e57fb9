// SPHERE's filter and the edit diagnostics on tensor-parallel shards (np 1, 2,
// 4; uneven shards) equal their single-process results, for row- and
// column-split weights, factored and dense updates.
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include "lib/edit/filters/sphere_filter.h"
#include "lib/edit/run/edit_diagnostics.h"
#include "sharding/comm/local_communicator.h"
#include "tests/edit/edit_fixtures.h"
#include "tests/support/test_world.h"

namespace revive::edit {
namespace {

using sharding::Layout;
using sharding::ShardedTensor;
using testing::randn;
using testing::rel_err;

constexpr int64_t kFamOut = 13, kFamIn = 22, kFamN = 3;

class FilterFamilyMpi : public ::testing::TestWithParam<Layout> {};

TEST_P(FilterFamilyMpi, SphereAndDiagnosticsEqualSerial) {
  sharding::LocalCommunicator self;
  const at::Tensor wf = randn({kFamOut, kFamIn}, 41);
  const ShardedTensor serial_w = ShardedTensor::from_full(wf, Layout::kReplicated, self);
  const ShardedTensor w = ShardedTensor::from_full(wf, GetParam(), revive::testing::world());
  const at::Tensor r = randn({kFamOut, kFamN}, 42), x = randn({kFamIn, kFamN}, 43);
  const WeightUpdate factored = WeightUpdate::factored("l", r, x);
  const WeightUpdate dense = WeightUpdate::dense("l", at::matmul(r, x.t()));
  const at::Tensor c = at::matmul(randn({kFamIn, kFamIn}, 44), randn({kFamIn, kFamIn}, 44).t()) / kFamIn;
  const at::Tensor keys = randn({kFamIn, kFamN}, 45), resid = randn({kFamOut, kFamN}, 46);

  const SphereFilter sphere(SphereOptions{0.5, 0.5});
  const at::Tensor expected = sphere.apply(dense, serial_w).dense_delta();
  for (const WeightUpdate& up : {factored, dense}) {
    SCOPED_TRACE(up.is_factored() ? "factored" : "dense");
    const WeightUpdate local = up.local_shard(w.spec());
    const WeightUpdate safe = sphere.apply(local, w);
    const at::Tensor got =
        ShardedTensor(safe.materialize().contiguous(), w.spec(), revive::testing::world()).full();
    EXPECT_LT(rel_err(got, expected), 1e-10);

    EXPECT_NEAR(update_disturbance_sq(local, w, c), update_disturbance_sq(up, serial_w, c),
                1e-10 * update_disturbance_sq(up, serial_w, c));
    EXPECT_NEAR(update_fit_error(local, w, keys, resid), update_fit_error(up, serial_w, keys, resid), 1e-10);
  }
  EXPECT_NEAR(weight_output_energy(w.local(), w, c), weight_output_energy(wf, serial_w, c),
              1e-10 * weight_output_energy(wf, serial_w, c));
}

INSTANTIATE_TEST_SUITE_P(Layouts, FilterFamilyMpi, ::testing::Values(Layout::kColumn, Layout::kRow),
                         [](const ::testing::TestParamInfo<Layout>& i) {
                           return std::string(sharding::to_string(i.param));
                         });

}  // namespace
}  // namespace revive::edit
