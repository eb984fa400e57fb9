#include "lib/spectral/revive_filter.h"

#include <gtest/gtest.h>

#include <ATen/ATen.h>

#include "sharding/comm/local_communicator.h"
#include "sharding/errors.h"
#include "tests/spectral/spectral_fixtures.h"

namespace revive::spectral {
namespace {

using sharding::Layout;
using sharding::LocalCommunicator;
using sharding::ShardedTensor;

class ReviveFilterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    w_ = testing::matrix_with_spectrum(60, 90, testing::singular_values(testing::Spectrum::kSlowDecay, 60), 31);
    SvdOptions o;
    o.energy = 0.5;
    weight_ = ShardedTensor::from_full(w_, Layout::kReplicated, group_);
    basis_ = ProtectedBasis::compute(weight_, "layer.w", o);
  }
  LocalCommunicator group_;
  at::Tensor w_;
  ShardedTensor weight_;
  ProtectedBasis basis_;
};

TEST_F(ReviveFilterTest, RemovesEveryProtectedComponent) {
  const ReviveFilter filter(basis_);
  const at::Tensor dw = testing::random_orthonormal(60, 60, 5) * 3.0;
  const at::Tensor safe = filter.apply(dw.narrow(1, 0, 60).matmul(testing::random_orthonormal(90, 60, 6).t()));
  const at::Tensor& u = basis_.u().local();
  const at::Tensor& v = basis_.v().local();
  ASSERT_GT(basis_.k(), 1);
  EXPECT_LT(at::matmul(u.t(), safe).abs().max().item<double>(), 1e-12);
  EXPECT_LT(at::matmul(safe, v).abs().max().item<double>(), 1e-12);
  EXPECT_GT(safe.norm().item<double>(), 1.0);  // not everything removed
}

TEST_F(ReviveFilterTest, IsIdempotent) {
  const ReviveFilter filter(basis_);
  const at::Tensor dw = gaussian_sketch_rows(8, 0, 60, 90);
  const at::Tensor once = filter.apply(dw);
  EXPECT_LT(testing::rel_diff(filter.apply(once), once), 1e-13);
}

TEST_F(ReviveFilterTest, EqualsTheCoefficientMaskInTheSingularBasis) {
  // DESIGN.md: write dW in the basis u_i v_j^T and zero every coefficient with i <= k or j <= k.
  auto [uf, sf, vhf] = at::linalg_svd(w_, true);
  const int64_t k = basis_.k();
  const at::Tensor dw = gaussian_sketch_rows(9, 0, 60, 90);
  at::Tensor coeff = at::matmul(uf.t(), at::matmul(dw, vhf.t()));
  coeff.narrow(0, 0, k).zero_();
  coeff.narrow(1, 0, k).zero_();
  const at::Tensor expected = at::matmul(uf, at::matmul(coeff, vhf));
  EXPECT_LT(testing::rel_diff(ReviveFilter(basis_).apply(dw), expected), 1e-10);
}

TEST_F(ReviveFilterTest, LeavesAnOrthogonalUpdateUnchanged) {
  const at::Tensor& u = basis_.u().local();
  const at::Tensor& v = basis_.v().local();
  const at::Tensor pu = at::eye(60, at::kDouble) - at::matmul(u, u.t());
  const at::Tensor pv = at::eye(90, at::kDouble) - at::matmul(v, v.t());
  const at::Tensor dw = at::matmul(pu, at::matmul(gaussian_sketch_rows(10, 0, 60, 90), pv));
  EXPECT_LT(testing::rel_diff(ReviveFilter(basis_).apply(dw), dw), 1e-13);
}

TEST_F(ReviveFilterTest, FactoredEqualsDense) {
  const ReviveFilter filter(basis_);
  const at::Tensor r = gaussian_sketch_rows(11, 0, 60, 4);
  const at::Tensor x = gaussian_sketch_rows(12, 0, 90, 4);
  const FactoredUpdate safe = filter.apply(FactoredUpdate{r, x});
  EXPECT_EQ(safe.r.sizes(), r.sizes());
  EXPECT_EQ(safe.x.sizes(), x.sizes());
  EXPECT_LT(testing::rel_diff(at::matmul(safe.r, safe.x.t()), filter.apply(at::matmul(r, x.t()))), 1e-12);
}

TEST_F(ReviveFilterTest, KeepsTheUpdateDtype) {
  const ReviveFilter filter(basis_);
  const at::Tensor dw = gaussian_sketch_rows(13, 0, 60, 90).to(at::kBFloat16);
  const at::Tensor safe = filter.apply(dw);
  EXPECT_EQ(safe.scalar_type(), at::kBFloat16);
  EXPECT_LT(at::matmul(basis_.u().local().t().to(at::kFloat), safe.to(at::kFloat)).abs().max().item<double>(), 0.2);
}

// Every side variant is its coefficient mask in the singular basis of W0
// (i, j are the output and input direction indices; <= k protected), dense and
// factored alike.
TEST_F(ReviveFilterTest, EverySideVariantIsItsCoefficientMask) {
  auto [uf, sf, vhf] = at::linalg_svd(w_, true);
  const int64_t k = basis_.k();
  const at::Tensor dw = gaussian_sketch_rows(14, 0, 60, 90);
  const at::Tensor coeff = at::matmul(uf.t(), at::matmul(dw, vhf.t()));
  const struct {
    ProtectedSides sides;
    bool rows, cols, block;
  } cases[] = {{ProtectedSides::kBoth, true, true, false},
               {ProtectedSides::kOutput, true, false, false},
               {ProtectedSides::kInput, false, true, false},
               {ProtectedSides::kBlock, false, false, true}};
  const at::Tensor r = gaussian_sketch_rows(15, 0, 60, 3), x = gaussian_sketch_rows(16, 0, 90, 3);
  for (const auto& c : cases) {
    SCOPED_TRACE(to_string(c.sides));
    at::Tensor masked = coeff.clone();
    if (c.rows) masked.narrow(0, 0, k).zero_();
    if (c.cols) masked.narrow(1, 0, k).zero_();
    if (c.block) masked.narrow(0, 0, k).narrow(1, 0, k).zero_();
    const at::Tensor expected = at::matmul(uf, at::matmul(masked, vhf));
    const ReviveFilter filter(basis_, c.sides);
    EXPECT_LT(testing::rel_diff(filter.apply(dw), expected), 1e-10);
    EXPECT_LT(testing::rel_diff(filter.apply(filter.apply(dw)), filter.apply(dw)), 1e-12);  // a projection
    const FactoredUpdate f = filter.apply(FactoredUpdate{r, x});
    EXPECT_EQ(f.r.size(1), c.block ? 6 : 3);
    EXPECT_LT(testing::rel_diff(at::matmul(f.r, f.x.t()), filter.apply(at::matmul(r, x.t()))), 1e-12);
  }
}

TEST_F(ReviveFilterTest, RejectsAMismatchedShape) {
  const ReviveFilter filter(basis_);
  EXPECT_THROW(filter.apply(at::zeros({90, 60}, at::kDouble)), revive::Error);
  EXPECT_THROW(filter.apply(FactoredUpdate{at::zeros({60, 2}, at::kDouble), at::zeros({60, 2}, at::kDouble)}),
               revive::Error);
}

}  // namespace
}  // namespace revive::spectral
