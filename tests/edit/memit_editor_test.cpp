// MEMIT: the factored solve against the dense formula with an explicit f64
// inverse; exact key->target mapping with C = 0 and a tiny regulariser; the
// residual spreading; the LU fallback; errors naming the layer.
#include "lib/edit/editors/memit_editor.h"

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include "sharding/errors.h"
#include "tests/edit/edit_fixtures.h"

namespace revive::edit {
namespace {

using testing::randn;
using testing::rel_err;

TEST(MemitEditor, SolveEqualsDenseReference) {
  const int64_t d_in = 24, d_out = 10, n = 6, m = 200;
  const at::Tensor k0 = randn({d_in, m}, 1);
  const at::Tensor c = at::matmul(k0, k0.t()) / m;  // E[k k^T]
  const at::Tensor k = randn({d_in, n}, 2), r = randn({d_out, n}, 3);
  for (double lambda : {0.5, 15000.0}) {
    MemitOptions o;
    o.mom2_update_weight = lambda;
    MemitEditor ed(o);
    ed.set_statistics("l5", c);
    const WeightUpdate u = ed.compute({"l5", k, r, {}, {}});
    ASSERT_TRUE(u.is_factored());
    EXPECT_EQ(ed.last_method(), SolveMethod::kCholesky);
    const at::Tensor ref = at::matmul(at::matmul(r, k.t()), at::inverse(lambda * c + at::matmul(k, k.t())));
    EXPECT_LT(rel_err(u.materialize(), ref), 1e-10) << "lambda " << lambda;
  }
}

// memit-seq over three batches: each solve is the dense (lambda C + K_p K_p^T +
// K K^T)^{-1} with every earlier batch's keys, and the key memory survives a
// state() / load_state() round trip into a fresh editor.
TEST(MemitEditor, KeyMemoryJoinsPastBatchesKeysToTheSolve) {
  const int64_t d_in = 20, d_out = 7, n = 4;
  const at::Tensor k0 = randn({d_in, 150}, 21), c = at::matmul(k0, k0.t()) / 150;
  MemitOptions o;
  o.mom2_update_weight = 3.0;
  o.key_memory = true;
  MemitEditor ed(o);
  EXPECT_EQ(ed.name(), "MEMIT-seq");
  EXPECT_TRUE(ed.records_keys());
  ed.set_statistics("l", c);
  at::Tensor past = at::zeros({d_in, d_in}, at::kDouble);
  for (int b = 0; b < 3; ++b) {
    const at::Tensor k = randn({d_in, n}, 30 + b), r = randn({d_out, n}, 40 + b);
    const at::Tensor ref =
        at::matmul(at::matmul(r, k.t()), at::inverse(3.0 * c + past + at::matmul(k, k.t())));
    EXPECT_LT(rel_err(ed.compute({"l", k, r, {}, {}}).materialize(), ref), 1e-10) << "batch " << b;
    ed.record_keys("l", k);
    past = past + at::matmul(k, k.t());
  }
  MemitEditor resumed(o);
  resumed.set_statistics("l", c);
  resumed.load_state(ed.state());
  const at::Tensor k = randn({d_in, n}, 50);
  EXPECT_LT(rel_err(resumed.solve_keys("l", k), ed.solve_keys("l", k)), 1e-14);
  // Plain MEMIT forgets: recording keys changes nothing.
  MemitOptions plain = o;
  plain.key_memory = false;
  MemitEditor memit(plain);
  memit.set_statistics("l", c);
  const at::Tensor before = memit.solve_keys("l", k);
  memit.record_keys("l", randn({d_in, n}, 51));
  EXPECT_TRUE(at::equal(memit.solve_keys("l", k), before));
  EXPECT_TRUE(memit.state().empty());
}

TEST(MemitEditor, ZeroStatisticsTinyRegulariserMapsKeysToTargets) {
  const int64_t d_in = 30, d_out = 8, n = 5;
  const at::Tensor k = randn({d_in, n}, 4), r = randn({d_out, n}, 5), w = randn({d_out, d_in}, 6);
  MemitOptions o;
  o.mom2_update_weight = 1e-8;  // C = I below: the regulariser is 1e-8 I
  MemitEditor ed(o);
  ed.set_statistics("l", at::eye(d_in, at::kDouble));
  at::Tensor w_new = w.clone();
  ed.compute({"l", k, r, {}, {}}).apply_to(w_new);
  // (W + dW) K = W K + R.
  EXPECT_LT(rel_err(at::matmul(w_new, k), at::matmul(w, k) + r), 1e-7);
}

TEST(MemitEditor, FloatKeysGiveFloatFactorsMatchingDouble) {
  const at::Tensor k0 = randn({16, 100}, 7), c = at::matmul(k0, k0.t()) / 100;
  const at::Tensor k = randn({16, 4}, 8);
  MemitEditor ed;
  ed.set_statistics("l", c.to(at::kFloat));
  const at::Tensor x32 = ed.solve_keys("l", k.to(at::kFloat));
  EXPECT_EQ(x32.scalar_type(), at::kFloat);
  ed.set_statistics("l", c);
  EXPECT_LT(rel_err(x32, ed.solve_keys("l", k)), 1e-5);
}

TEST(MemitEditor, IndefiniteOperatorFallsBackToLu) {
  // C with a negative eigenvalue (not a valid second moment, but finite): the
  // Cholesky of lambda C + K K^T fails and LU must still solve it.
  const int64_t d = 12;
  std::vector<double> ev(d, 1.0);
  ev[3] = -2.0;
  const at::Tensor c = testing::with_spectrum(ev, 9).c;
  const at::Tensor k = randn({d, 3}, 10) * 0.1;
  MemitOptions o;
  o.mom2_update_weight = 1.0;
  MemitEditor ed(o);
  ed.set_statistics("l", c);
  const at::Tensor x = ed.solve_keys("l", k);
  EXPECT_EQ(ed.last_method(), SolveMethod::kLu);
  EXPECT_LT(rel_err(at::matmul(c + at::matmul(k, k.t()), x), k), 1e-12);
}

TEST(MemitEditor, ErrorsNameTheLayer) {
  MemitEditor ed;
  ed.set_statistics("model.layers.1.mlp.down_proj", at::eye(4, at::kDouble));
  try {
    ed.solve_keys("model.layers.2.mlp.down_proj", randn({4, 1}, 11));
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("model.layers.2.mlp.down_proj"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("model.layers.1.mlp.down_proj"), std::string::npos) << e.what();
  }
  EXPECT_THROW(ed.solve_keys("model.layers.1.mlp.down_proj", randn({5, 1}, 12)), Error);
  EXPECT_THROW(ed.compute({"model.layers.1.mlp.down_proj", randn({4, 2}, 13), randn({3, 1}, 14), {}, {}}), Error);
  at::Tensor bad = at::eye(4, at::kDouble);
  bad[0][0] = std::numeric_limits<double>::quiet_NaN();
  EXPECT_THROW(ed.set_statistics("x", bad), Error);
  EXPECT_THROW(MemitEditor(MemitOptions{-1.0}), Error);
}

TEST(SpreadResidual, DividesOverTheLayersLeft) {
  const at::Tensor r = randn({5, 3}, 15);
  EXPECT_LT(rel_err(spread_residual(r, 0, 5), r / 5.0), 1e-16);
  EXPECT_LT(rel_err(spread_residual(r, 3, 5), r / 2.0), 1e-16);
  EXPECT_LT(rel_err(spread_residual(r, 4, 5), r), 1e-16);
  EXPECT_THROW(spread_residual(r, 5, 5), Error);
  EXPECT_THROW(spread_residual(r, -1, 5), Error);
}

}  // namespace
}  // namespace revive::edit
