// The filter family of issue 22 against exact references: SPHERE's soft projector
// against its published formula (eigh of the row-normalised W^T W), the
// constrained solve against MEMIT's objective minimised in explicit coordinates
// of the unprotected subspace, and the edit diagnostics against dense traces.
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <cmath>

#include "lib/edit/editors/alphaedit_editor.h"
#include "lib/edit/editors/constrained_solve_editor.h"
#include "lib/edit/editors/memit_editor.h"
#include "lib/edit/filters/filter_family.h"
#include "lib/edit/filters/sphere_filter.h"
#include "lib/edit/run/edit_diagnostics.h"
#include "lib/spectral/protected_basis.h"
#include "lib/spectral/revive_filter.h"
#include "sharding/comm/local_communicator.h"
#include "sharding/errors.h"
#include "tests/edit/edit_fixtures.h"

namespace revive::edit {
namespace {

using sharding::Layout;
using sharding::ShardedTensor;
using testing::randn;
using testing::rel_err;

// W0 = Q1 diag(s) Q2^T with a decaying spectrum, so the protected k is clear.
at::Tensor weight_with_decay(int64_t m, int64_t n, uint64_t seed) {
  const int64_t r = std::min(m, n);
  const at::Tensor q1 = std::get<0>(at::linalg_qr(randn({m, r}, seed)));
  const at::Tensor q2 = std::get<0>(at::linalg_qr(randn({n, r}, seed + 1)));
  const at::Tensor s = at::pow(at::full({r}, 0.8, at::kDouble), at::arange(r, at::kDouble)) * 5.0;
  return at::matmul(q1 * s.unsqueeze(0), q2.t());
}

// SPHERE's project_B_into_soft_dirs, written out: the reference formula.
at::Tensor sphere_reference(const at::Tensor& w, const at::Tensor& dw, double eta, double alpha,
                            int64_t* r_out) {
  const at::Tensor a_hat = w / (w.norm(2, {1}, true) + 1e-8);
  const at::Tensor c = at::matmul(a_hat.t(), a_hat) / static_cast<double>(a_hat.size(0));
  auto [evals, evecs] = at::linalg_eigh(c);
  const at::Tensor cum = at::cumsum(evals.flip(0), 0) / evals.sum();
  const int64_t r = (cum <= eta).sum().item<int64_t>() + 1;
  *r_out = r;
  const at::Tensor u = evecs.narrow(1, evecs.size(1) - r, r);
  const at::Tensor p = at::eye(w.size(1), at::kDouble) - alpha * at::matmul(u, u.t());
  return at::matmul(dw, p.t());
}

TEST(SphereFilter, EqualsThePublishedFormulaDenseAndFactored) {
  sharding::LocalCommunicator self;
  const at::Tensor w = randn({24, 40}, 3) + weight_with_decay(24, 40, 4);
  const ShardedTensor sw = ShardedTensor::from_full(w, Layout::kReplicated, self);
  for (double eta : {0.3, 0.5, 0.8}) {
    for (double alpha : {0.5, 1.0}) {
      SCOPED_TRACE("eta " + std::to_string(eta) + " alpha " + std::to_string(alpha));
      const SphereFilter f(SphereOptions{eta, alpha});
      const at::Tensor dw = randn({24, 40}, 5);
      int64_t r = 0;
      const at::Tensor expected = sphere_reference(w, dw, eta, alpha, &r);
      EXPECT_LT(rel_err(f.apply(WeightUpdate::dense("l", dw), sw).dense_delta(), expected), 1e-10);
      EXPECT_EQ(f.last_k(), r);
      const at::Tensor rr = randn({24, 3}, 6), x = randn({40, 3}, 7);
      const WeightUpdate fac = f.apply(WeightUpdate::factored("l", rr, x), sw);
      ASSERT_TRUE(fac.is_factored());
      int64_t r2 = 0;
      EXPECT_LT(rel_err(fac.materialize(), sphere_reference(w, at::matmul(rr, x.t()), eta, alpha, &r2)),
                1e-10);
    }
  }
}

TEST(SphereFilter, RejectsSettingsOutOfRange) {
  EXPECT_THROW(SphereFilter(SphereOptions{0.0, 0.5}), revive::Error);
  EXPECT_THROW(SphereFilter(SphereOptions{0.5, 1.5}), revive::Error);
  EXPECT_THROW(SphereFilter(SphereOptions{std::nan(""), 0.5}), revive::Error);
}

// MEMIT's objective: ||dW K - R||^2 + lambda tr(dW C dW^T).
double memit_objective(const at::Tensor& dw, const at::Tensor& k, const at::Tensor& r, const at::Tensor& c,
                       double lambda) {
  return (at::matmul(dw, k) - r).pow(2).sum().item<double>() +
         lambda * (at::matmul(dw, c) * dw).sum().item<double>();
}

struct ConstrainedProblem {
  int64_t m = 18, d = 30, n = 4;
  double lambda = 3.0;
  at::Tensor w0, c, keys, resid;
  spectral::ProtectedBasis basis;
  sharding::LocalCommunicator self;
  ConstrainedProblem() {
    w0 = weight_with_decay(m, d, 11);
    std::vector<double> evals;
    for (int64_t i = 0; i < d; ++i) evals.push_back(std::pow(0.85, static_cast<double>(i)) + 1e-3);
    c = testing::with_spectrum(evals, 12).c;
    keys = randn({d, n}, 13);
    resid = randn({m, n}, 14);
    spectral::SvdOptions o;
    o.energy = 0.6;
    basis =
        spectral::ProtectedBasis::compute(ShardedTensor::from_full(w0, Layout::kReplicated, self), "l", o);
  }
};

TEST(ConstrainedSolve, MemitEqualsTheSolveInCoordinatesOfTheUnprotectedSubspace) {
  ConstrainedProblem p;
  const int64_t k = p.basis.k();
  ASSERT_GT(k, 1);
  ASSERT_LT(k, p.m / 2);
  const at::Tensor v = p.basis.v().local(), u = p.basis.u().local();
  // Q: orthonormal basis of range(I - V V^T), from the full SVD of W0.
  auto [uf, sf, vhf] = at::linalg_svd(p.w0, true);
  const at::Tensor q = vhf.narrow(0, k, p.d - k).t();
  const at::Tensor a = at::matmul(q.t(), at::matmul(p.lambda * p.c + at::matmul(p.keys, p.keys.t()), q));
  const at::Tensor x_ref = at::matmul(q, at::linalg_solve(a, at::matmul(q.t(), p.keys)));
  const at::Tensor pu = at::eye(p.m, at::kDouble) - at::matmul(u, u.t());
  const at::Tensor dw_ref = at::matmul(at::matmul(pu, p.resid), x_ref.t());

  MemitOptions mo;
  mo.mom2_update_weight = p.lambda;
  ConstrainedSolveEditor editor(std::make_unique<MemitEditor>(mo), {{"l", v}});
  editor.set_statistics("l", p.c);
  const at::Tensor x = editor.solve_keys("l", p.keys);
  EXPECT_LT(rel_err(x, x_ref), 1e-9);
  const spectral::ReviveFilter both(p.basis);
  const spectral::FactoredUpdate safe = both.apply(spectral::FactoredUpdate{p.resid, x});
  const at::Tensor dw = at::matmul(safe.r, safe.x.t());
  EXPECT_LT(rel_err(dw, dw_ref), 1e-9);

  // Never worse on MEMIT's objective than MEMIT's update filtered after the fact
  // (both lie in the same set); here strictly better.
  MemitEditor plain(mo);
  plain.set_statistics("l", p.c);
  const at::Tensor filtered = both.apply(at::matmul(p.resid, plain.solve_keys("l", p.keys).t()));
  const double j_constrained = memit_objective(dw, p.keys, p.resid, p.c, p.lambda);
  const double j_filtered = memit_objective(filtered, p.keys, p.resid, p.c, p.lambda);
  EXPECT_LT(j_constrained, j_filtered * (1 - 1e-6));
}

TEST(ConstrainedSolve, AlphaEditStaysOutOfTheProtectedInputsAndKeepsItsMemory) {
  ConstrainedProblem p;
  const at::Tensor v = p.basis.v().local();
  AlphaEditOptions ao;
  ao.nullspace_threshold = 0.05;
  ConstrainedSolveEditor editor(std::make_unique<AlphaEditEditor>(ao), {{"l", v}});
  editor.set_statistics("l", p.c);
  editor.record_keys("l", randn({p.d, 3}, 21));
  const at::Tensor x = editor.solve_keys("l", p.keys);
  EXPECT_GT(x.norm().item<double>(), 1e-6);
  EXPECT_LT(at::matmul(v.t(), x).abs().max().item<double>(), 1e-10 * x.abs().max().item<double>());
  EXPECT_TRUE(editor.records_keys());
  // The cache holds the projected keys: their protected part is gone.
  for (const auto& [name, t] : editor.state())
    EXPECT_LT(at::matmul(v.t(), t).abs().max().item<double>(), 1e-9) << name;
}

TEST(FilterFamily, NamesAndChoicesAreChecked) {
  FilterChoice c;
  c.names = {"revive", "sphere"};
  EXPECT_NO_THROW(check_filter_choice(c, "--filter"));
  EXPECT_TRUE(needs_protected_basis(c));
  EXPECT_EQ(describe(c), "revive+sphere");
  c.names = {"sphere"};
  EXPECT_FALSE(needs_protected_basis(c));
  c.names = {"constrained", "revive-input"};
  EXPECT_THROW(check_filter_choice(c, "--filter"), revive::InputError);
  c.names = {"revives"};
  EXPECT_THROW(check_filter_choice(c, "--filter"), revive::InputError);
  c.names = {"none"};
  EXPECT_EQ(describe(c), "none");
}

TEST(EditDiagnostics, EqualDenseTracesAndNorms) {
  sharding::LocalCommunicator self;
  const int64_t m = 9, d = 14, n = 3;
  const ShardedTensor w = ShardedTensor::from_full(randn({m, d}, 31), Layout::kReplicated, self);
  const at::Tensor c = testing::with_spectrum(std::vector<double>(static_cast<size_t>(d), 0.5), 32).c +
                       0.1 * at::eye(d, at::kDouble);
  const at::Tensor r = randn({m, n}, 33), x = randn({d, n}, 34), keys = randn({d, n}, 35),
                   resid = randn({m, n}, 36);
  const at::Tensor dw = at::matmul(r, x.t());
  const double trace = (at::matmul(dw, c) * dw).sum().item<double>();
  for (const WeightUpdate& up : {WeightUpdate::factored("l", r, x), WeightUpdate::dense("l", dw)}) {
    EXPECT_NEAR(update_disturbance_sq(up, w, c), trace, 1e-9 * trace);
    EXPECT_NEAR(update_fit_error(up, w, keys, resid), (at::matmul(dw, keys) - resid).norm().item<double>(),
                1e-9);
  }
  EXPECT_NEAR(weight_output_energy(w.local(), w, c),
              (at::matmul(w.local(), c) * w.local()).sum().item<double>(), 1e-9);
  const at::Tensor u = std::get<0>(at::linalg_qr(randn({m, 2}, 37)));
  const at::Tensor out = resid - at::matmul(u, at::matmul(u.t(), resid));
  EXPECT_NEAR(unprotected_share(resid, u), out.norm().item<double>() / resid.norm().item<double>(), 1e-12);
  EXPECT_EQ(unprotected_share(at::zeros({m, n}, at::kDouble), u), 1.0);

  // v*: two requests, one at the clamp (||delta|| = 0.75 ||z0||), one well inside.
  ValueResult vr;
  vr.initial = at::zeros({4, 2}, at::kDouble);
  vr.initial[0][0] = 2.0;
  vr.initial[1][1] = 4.0;
  vr.targets = vr.initial.clone();
  vr.targets[2][0] = 1.5;  // ratio 0.75
  vr.targets[3][1] = 1.0;  // ratio 0.25
  const ValueDiagnostics vd = value_diagnostics(vr, 0.75);
  EXPECT_DOUBLE_EQ(vd.z0_norm, 3.0);
  EXPECT_DOUBLE_EQ(vd.delta_ratio, 0.5);
  EXPECT_DOUBLE_EQ(vd.clamped_fraction, 0.5);
}

}  // namespace
}  // namespace revive::edit
