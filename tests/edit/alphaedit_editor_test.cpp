// AlphaEdit: the null-space projector of a known spectrum, the update
// annihilating preserved keys, the paper's formula with explicit inverses, and
// the accumulated key cache across batches.
#include "lib/edit/editors/alphaedit_editor.h"

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include "sharding/errors.h"
#include "tests/edit/edit_fixtures.h"

namespace revive::edit {
namespace {

using testing::randn;
using testing::rel_err;

// 20 dimensions: 14 large eigenvalues (preserved), 6 below the 2e-2 threshold.
testing::Spectrum statistics() {
  std::vector<double> ev;
  for (int i = 0; i < 14; ++i) ev.push_back(0.5 + 0.3 * i);
  for (int i = 0; i < 6; ++i) ev.push_back(1e-3 * (i + 1));
  return testing::with_spectrum(ev, 21);
}

at::Tensor paper_formula(const at::Tensor& r, const at::Tensor& k, const at::Tensor& p, const at::Tensor& kp_kpt,
                         double l2) {
  const int64_t d = p.size(0);
  const at::Tensor inner = at::matmul(kp_kpt, p) + at::matmul(at::matmul(k, k.t()), p) + l2 * at::eye(d, at::kDouble);
  return at::matmul(at::matmul(at::matmul(r, k.t()), p), at::inverse(inner));
}

TEST(NullSpaceProjector, SpansTheSmallEigenvectors) {
  const auto s = statistics();
  int64_t dim = 0;
  const at::Tensor p = null_space_projector(s.c, 2e-2, &dim);
  EXPECT_EQ(dim, 6);
  EXPECT_LT(rel_err(at::matmul(p, p), p), 1e-12);
  EXPECT_LT(rel_err(p, p.t()), 1e-14);
  const at::Tensor big = s.q.narrow(1, 0, 14), small = s.q.narrow(1, 14, 6);
  EXPECT_LT(at::matmul(p, big).norm().item<double>(), 1e-12);
  EXPECT_LT(rel_err(at::matmul(p, small), small), 1e-12);
}

TEST(AlphaEditEditor, UpdateAnnihilatesPreservedKeys) {
  const auto s = statistics();
  AlphaEditEditor ed;
  ed.set_statistics("l", s.c);
  EXPECT_EQ(ed.null_dim("l"), 6);
  const at::Tensor k = randn({20, 4}, 22), r = randn({9, 4}, 23);
  const at::Tensor dw = ed.compute({"l", k, r, {}, {}}).materialize();
  ASSERT_GT(dw.norm().item<double>(), 1e-3);
  // Any k0 in the span of the large eigenvectors: dW k0 = 0.
  const at::Tensor k0 = at::matmul(s.q.narrow(1, 0, 14), randn({14, 5}, 24));
  const double ratio = at::matmul(dw, k0).norm().item<double>() / (dw.norm().item<double>() * k0.norm().item<double>());
  EXPECT_LT(ratio, 1e-12);
}

TEST(AlphaEditEditor, MatchesThePapersFormulaAcrossBatches) {
  const auto s = statistics();
  AlphaEditOptions o;
  o.l2 = 10.0;
  AlphaEditEditor ed(o);
  ed.set_statistics("l", s.c);
  const at::Tensor p = null_space_projector(s.c, o.nullspace_threshold);
  EXPECT_LT(rel_err(ed.projector("l"), p), 1e-14);

  at::Tensor kp_kpt = at::zeros({20, 20}, at::kDouble);
  for (uint64_t batch = 0; batch < 3; ++batch) {
    const at::Tensor k = randn({20, 3}, 30 + batch), r = randn({7, 3}, 40 + batch);
    const at::Tensor dw = ed.compute({"l", k, r, {}, {}}).materialize();
    EXPECT_LT(rel_err(dw, paper_formula(r, k, p, kp_kpt, o.l2)), 1e-10) << "batch " << batch;
    ed.record_keys("l", k);
    kp_kpt += at::matmul(k, k.t());
    EXPECT_LT(rel_err(ed.key_cache("l"), kp_kpt), 1e-14);
  }
}

TEST(AlphaEditEditor, FloatStatisticsKeepFloatOperators) {
  const auto s = statistics();
  AlphaEditEditor ed;
  ed.set_statistics("l", s.c.to(at::kFloat));
  EXPECT_EQ(ed.projector("l").scalar_type(), at::kFloat);
  EXPECT_EQ(ed.key_cache("l").scalar_type(), at::kFloat);
  const at::Tensor k = randn({20, 2}, 50);
  const at::Tensor x = ed.solve_keys("l", k.to(at::kFloat));
  EXPECT_EQ(x.scalar_type(), at::kFloat);
  AlphaEditEditor ref;
  ref.set_statistics("l", s.c);
  EXPECT_LT(rel_err(x, ref.solve_keys("l", k)), 1e-5);
}

TEST(AlphaEditEditor, RejectsUnknownLayersAndBadOptions) {
  AlphaEditEditor ed;
  EXPECT_THROW(ed.solve_keys("nope", randn({3, 1}, 1)), Error);
  EXPECT_THROW(ed.record_keys("nope", randn({3, 1}, 1)), Error);
  AlphaEditOptions o;
  o.l2 = 0.0;
  EXPECT_THROW(AlphaEditEditor{o}, Error);
}

}  // namespace
}  // namespace revive::edit
