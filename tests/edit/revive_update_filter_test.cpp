// The REVIVE adapter: factored updates stay factored, the result equals
// (I - U_k U_k^T) dW (I - V_k V_k^T) from the test's own SVD of W0, and has no
// component on a protected direction; composes with the RECT mask.
#include "lib/edit/filters/revive_update_filter.h"

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include "lib/edit/editors/rect_editor.h"
#include "lib/spectral/protected_basis.h"
#include "sharding/comm/local_communicator.h"
#include "sharding/errors.h"
#include "tests/edit/edit_fixtures.h"

namespace revive::edit {
namespace {

using testing::randn;
using testing::rel_err;

class ReviveUpdateFilterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    w0_ = randn({20, 30}, 1);
    spectral::SvdOptions o;
    o.rsvd.rank = 4;
    o.engine = spectral::SvdEngine::kGramEigen;
    weight_ = sharding::ShardedTensor::from_full(w0_, sharding::Layout::kReplicated, group_);
    basis_ = spectral::ProtectedBasis::compute(weight_, "l", o);
    auto [u, s, vh] = at::linalg_svd(w0_, false);
    uk_ = u.narrow(1, 0, 4);
    vk_ = vh.narrow(0, 0, 4).t();
  }
  at::Tensor reference(const at::Tensor& dw) const {
    const at::Tensor pu = at::eye(20, at::kDouble) - at::matmul(uk_, uk_.t());
    const at::Tensor pv = at::eye(30, at::kDouble) - at::matmul(vk_, vk_.t());
    return at::matmul(at::matmul(pu, dw), pv);
  }
  sharding::LocalCommunicator group_;
  at::Tensor w0_, uk_, vk_;
  sharding::ShardedTensor weight_;
  spectral::ProtectedBasis basis_;
};

TEST_F(ReviveUpdateFilterTest, FactoredUpdateStaysFactoredWithNoProtectedComponent) {
  ASSERT_EQ(basis_.k(), 4);
  const spectral::ReviveFilter revive(basis_);
  const ReviveUpdateFilter f(revive);
  const WeightUpdate u = WeightUpdate::factored("l", randn({20, 3}, 2), randn({30, 3}, 3));
  const WeightUpdate safe = f.apply(u, weight_);
  ASSERT_TRUE(safe.is_factored());
  const at::Tensor dw = safe.materialize();
  EXPECT_LT(rel_err(dw, reference(u.materialize())), 1e-10);
  EXPECT_LT(at::matmul(uk_.t(), dw).abs().max().item<double>(), 1e-10);
  EXPECT_LT(at::matmul(dw, vk_).abs().max().item<double>(), 1e-10);
}

TEST_F(ReviveUpdateFilterTest, DenseUpdateAndPipelineWithRect) {
  const spectral::ReviveFilter revive(basis_);
  const at::Tensor dw = randn({20, 30}, 4);
  FilterPipeline p;
  p.add(std::make_shared<ReviveUpdateFilter>(revive)).add(std::make_shared<RectMaskFilter>(0.2));
  EXPECT_EQ(p.describe(), "revive+rect");
  const WeightUpdate out = p.apply(WeightUpdate::dense("l", dw), weight_);
  EXPECT_TRUE(at::allclose(out.materialize(), rect_sparsify(reference(dw), w0_, 0.2), 1e-10, 1e-12));
}

// The filter asks the weight for its layout: a weight laid out otherwise than the
// one the basis was made for is refused, naming both.
TEST_F(ReviveUpdateFilterTest, RefusesAWeightLaidOutOtherwiseThanItsBasis) {
  const spectral::ReviveFilter revive(basis_);
  const ReviveUpdateFilter f(revive);
  const WeightUpdate u = WeightUpdate::factored("l", randn({20, 3}, 2), randn({30, 3}, 3));
  const sharding::ShardedTensor other = sharding::ShardedTensor::from_full(w0_, sharding::Layout::kRow, group_);
  try {
    f.apply(u, other);
    FAIL() << "a weight of another layout was accepted";
  } catch (const Error& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("'l'"), std::string::npos) << msg;
    EXPECT_NE(msg.find(sharding::to_string(sharding::Layout::kRow)), std::string::npos) << msg;
    EXPECT_NE(msg.find(sharding::to_string(sharding::Layout::kReplicated)), std::string::npos) << msg;
  }
}

}  // namespace
}  // namespace revive::edit
