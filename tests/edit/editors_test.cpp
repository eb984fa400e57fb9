// EMMET, RECT, PRUNE and NSE on small known problems, each against a direct
// implementation written here (explicit inverses, loops over entries and
// singular values).
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <set>
#include <utility>
#include <vector>

#include "lib/edit/editors/emmet_editor.h"
#include "lib/edit/editors/memit_editor.h"
#include "lib/edit/editors/nse_editor.h"
#include "lib/edit/editors/prune_editor.h"
#include "lib/edit/editors/rect_editor.h"
#include "sharding/errors.h"
#include "tests/edit/edit_fixtures.h"

namespace revive::edit {
namespace {

using testing::randn;
using testing::rel_err;

at::Tensor second_moment(int64_t d, uint64_t seed) {
  const at::Tensor k0 = randn({d, 4 * d}, seed);
  return at::matmul(k0, k0.t()) / (4.0 * d);
}

// ---------------------------------------------------------------- EMMET

TEST(EmmetEditor, MatchesClosedFormWithExplicitInverses) {
  const at::Tensor c = second_moment(18, 1), k = randn({18, 5}, 2), r = randn({6, 5}, 3);
  EmmetOptions o;
  o.mom2_update_weight = 3.0;
  o.emmet_lambda = 0.1;
  o.update_norm_lambda = 0.25;
  EmmetEditor ed(o);
  ed.set_statistics("l", c);
  const at::Tensor c0_inv = at::inverse(3.0 * c + 0.25 * at::eye(18, at::kDouble));
  const at::Tensor d = at::matmul(at::matmul(k.t(), c0_inv), k) + 0.1 * at::eye(5, at::kDouble);
  const at::Tensor ref = at::matmul(at::matmul(at::matmul(r, at::inverse(d)), k.t()), c0_inv);
  EXPECT_LT(rel_err(ed.compute({"l", k, r, {}, {}}).materialize(), ref), 1e-10);
}

TEST(EmmetEditor, EqualityConstraintsHoldExactlyWithoutLambda) {
  const at::Tensor c = second_moment(16, 4), k = randn({16, 4}, 5), r = randn({7, 4}, 6), w = randn({7, 16}, 7);
  EmmetOptions o;
  o.emmet_lambda = 0.0;
  EmmetEditor ed(o);
  ed.set_statistics("l", c);
  at::Tensor w_new = w.clone();
  ed.compute({"l", k, r, {}, {}}).apply_to(w_new);
  EXPECT_LT(rel_err(at::matmul(w_new, k), at::matmul(w, k) + r), 1e-10);
}

// ---------------------------------------------------------------- RECT

std::set<int64_t> rect_keep_direct(const at::Tensor& dw, const at::Tensor& w, double frac) {
  std::vector<std::pair<double, int64_t>> rel;
  const auto d = dw.contiguous().flatten(), ww = w.contiguous().flatten();
  for (int64_t i = 0; i < d.numel(); ++i) {
    const double a = std::abs(d[i].item<double>()), b = std::abs(ww[i].item<double>());
    rel.emplace_back(a == 0 ? 0.0 : (b == 0 ? INFINITY : a / b), i);
  }
  std::sort(rel.begin(), rel.end(), [](const auto& x, const auto& y) { return x.first > y.first; });
  const auto keep = static_cast<size_t>(std::ceil(frac * rel.size()));
  std::set<int64_t> out;
  for (size_t i = 0; i < keep; ++i) out.insert(rel[i].second);
  return out;
}

TEST(RectEditor, KeepsTheTopRelativeChangesOfMemitsUpdate) {
  const at::Tensor c = second_moment(12, 8), k = randn({12, 3}, 9), r = randn({10, 3}, 10);
  at::Tensor w = randn({10, 12}, 11);
  w[2][5] = 0.0;  // a zero weight: its relative change is +inf, kept first
  RectOptions o;
  o.memit.mom2_update_weight = 2.0;
  o.keep_fraction = 0.2;  // the RECT authors' share (the default is the AlphaEdit repository's 0.4)
  RectEditor ed(o);
  ed.set_statistics("l", c);
  MemitEditor memit(o.memit);
  memit.set_statistics("l", c);
  const at::Tensor dw = memit.compute({"l", k, r, {}, {}}).materialize();

  const WeightUpdate u = ed.compute({"l", k, r, w, {}});
  ASSERT_FALSE(u.is_factored());
  const std::set<int64_t> keep = rect_keep_direct(dw, w, 0.2);
  EXPECT_EQ(keep.size(), 24u);  // ceil(0.2 * 120)
  EXPECT_TRUE(keep.count(2 * 12 + 5));
  const at::Tensor got = u.materialize().flatten(), full = dw.flatten();
  for (int64_t i = 0; i < got.numel(); ++i) {
    const double expect = keep.count(i) ? full[i].item<double>() : 0.0;
    EXPECT_EQ(got[i].item<double>(), expect) << "entry " << i;
  }
  EXPECT_THROW(ed.compute({"l", k, r, {}, {}}), Error);  // needs the weight
  EXPECT_THROW(rect_mask(dw, w, 0.0), Error);
}

// ---------------------------------------------------------------- PRUNE

at::Tensor prune_direct(const at::Tensor& acc, double sigma0, double base) {
  at::Tensor u, s, vh;
  std::tie(u, s, vh) = at::linalg_svd(acc, false);
  at::Tensor s2 = s.clone();
  for (int64_t i = 0; i < s.numel(); ++i) {
    const double si = s[i].item<double>();
    if (si >= sigma0) s2[i] = std::log(si) / std::log(base) + sigma0 - std::log(sigma0) / std::log(base);
  }
  return at::matmul(at::matmul(u, at::diag(s2)), vh);
}

TEST(PruneRestrain, LogRestraintOfAKnownSpectrum) {
  // Accumulated update with singular values {50, 8, 3, 0.5}; sigma0 = 5.
  const at::Tensor u = std::get<0>(at::linalg_qr(randn({9, 4}, 12)));
  const at::Tensor v = std::get<0>(at::linalg_qr(randn({6, 4}, 13)));
  const at::Tensor acc = at::matmul(u * at::tensor({50.0, 8.0, 3.0, 0.5}, at::kDouble).unsqueeze(0), v.t());
  for (double base : {std::exp(1.0), 1.2}) {
    const at::Tensor got = prune_restrain(acc, 5.0, base);
    const at::Tensor s = at::linalg_svdvals(got);
    const auto f = [&](double x) { return std::log(x) / std::log(base) - std::log(5.0) / std::log(base) + 5.0; };
    const std::vector<double> expect_unsorted = {f(50.0), f(8.0), 3.0, 0.5};
    std::vector<double> expect = expect_unsorted;
    std::sort(expect.rbegin(), expect.rend());
    for (int i = 0; i < 4; ++i) EXPECT_NEAR(s[i].item<double>(), expect[i], 1e-12) << "base " << base;
    EXPECT_LT(rel_err(got, prune_direct(acc, 5.0, base)), 1e-12);
    // Directions are kept: the restrained update has the same column space.
    EXPECT_LT(rel_err(at::matmul(at::matmul(u, u.t()), got), got), 1e-12);
  }
}

TEST(PruneEditor, RestrainsTheAccumulatedUpdateAfterEveryBatchWhenAsked) {
  const int64_t d_out = 8, d_in = 10;
  const at::Tensor c = second_moment(d_in, 14), w0 = randn({d_out, d_in}, 15) * 0.2;
  const double sigma0 = at::linalg_matrix_norm(w0, 2).item<double>();
  PruneOptions o;
  o.memit.mom2_update_weight = 0.5;
  o.when = PruneWhen::kEveryBatch;
  PruneEditor ed(o);
  EXPECT_FALSE(ed.finishes());
  ed.set_statistics("l", c);
  MemitEditor memit(o.memit);
  memit.set_statistics("l", c);
  at::Tensor w = w0.clone();
  int restrained_batches = 0;
  for (uint64_t b = 0; b < 3; ++b) {
    const at::Tensor k = randn({d_in, 2}, 20 + b), r = randn({d_out, 2}, 30 + b) * 5.0;
    const LayerEdit e{"l", k, r, w, w0};
    const at::Tensor dw = memit.compute(e).materialize();
    const at::Tensor expect_w = w0 + prune_direct(w + dw - w0, sigma0, std::exp(1.0));
    const double acc_norm = at::linalg_matrix_norm(w + dw - w0, 2).item<double>();  // before w changes
    const WeightUpdate u = ed.compute(e);
    ASSERT_FALSE(u.is_factored());
    u.apply_to(w);
    EXPECT_LT(rel_err(w, expect_w), 1e-11) << "batch " << b;
    restrained_batches += at::linalg_matrix_norm(expect_w - w0, 2).item<double>() < acc_norm - 1e-9;
  }
  EXPECT_GT(restrained_batches, 0);  // the problem exercises the restraint
}

// The default, as both reference codes: every batch writes MEMIT's update, and
// the restraint W0 + F(W - W0) comes once, from finish() after the last batch.
TEST(PruneEditor, RestrainsOnceAfterTheLastBatchByDefault) {
  const int64_t d_out = 8, d_in = 10;
  const at::Tensor c = second_moment(d_in, 14), w0 = randn({d_out, d_in}, 15) * 0.2;
  const double sigma0 = at::linalg_matrix_norm(w0, 2).item<double>();
  PruneOptions o;
  o.memit.mom2_update_weight = 0.5;
  PruneEditor ed(o);
  ASSERT_TRUE(ed.finishes());
  ed.set_statistics("l", c);
  MemitEditor memit(o.memit);
  memit.set_statistics("l", c);
  at::Tensor w = w0.clone();
  for (uint64_t b = 0; b < 3; ++b) {
    const LayerEdit e{"l", randn({d_in, 2}, 20 + b), randn({d_out, 2}, 30 + b) * 5.0, w, w0};
    const at::Tensor expect = memit.compute(e).materialize();
    const WeightUpdate u = ed.compute(e);
    EXPECT_LT(rel_err(u.materialize(), expect), 1e-12) << "batch " << b;
    u.apply_to(w);
  }
  const at::Tensor acc = w - w0;
  ASSERT_GT(at::linalg_matrix_norm(acc, 2).item<double>(), sigma0 * 1.5);  // the problem exercises the restraint
  ed.finish({"l", {}, {}, w, w0}).apply_to(w);
  EXPECT_LT(rel_err(w, w0 + prune_direct(acc, sigma0, std::exp(1.0))), 1e-11);
  EXPECT_THROW(ed.finish({"l", {}, {}, w, {}}), Error);  // W0 is needed
  MemitEditor plain(o.memit);
  EXPECT_FALSE(plain.finishes());
  EXPECT_THROW(plain.finish({"l", {}, {}, w, w0}), Error);
}

TEST(PruneEditor, ParsesWhenByName) {
  EXPECT_EQ(parse_prune_when("end", "--prune-when"), PruneWhen::kAfterLastBatch);
  EXPECT_EQ(parse_prune_when("batch", "--prune-when"), PruneWhen::kEveryBatch);
  EXPECT_EQ(prune_when_name(PruneWhen::kEveryBatch), "batch");
  try {
    parse_prune_when("last", "--prune-when");
    FAIL() << "no error";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("--prune-when"), std::string::npos);
  }
}

TEST(PruneEditor, SmallUpdatesPassUnchanged) {
  const at::Tensor c = second_moment(10, 40), w0 = randn({6, 10}, 41) * 10.0;
  MemitOptions mo;
  mo.mom2_update_weight = 100.0;
  PruneEditor ed(PruneOptions{mo, std::exp(1.0), PruneWhen::kEveryBatch});
  ed.set_statistics("l", c);
  MemitEditor memit(mo);
  memit.set_statistics("l", c);
  const LayerEdit e{"l", randn({10, 2}, 42), randn({6, 2}, 43) * 0.01, w0, w0};
  EXPECT_LT(rel_err(ed.compute(e).materialize(), memit.compute(e).materialize()), 1e-10);
  EXPECT_THROW(ed.compute({"l", e.keys, e.residual, w0, {}}), Error);
}

// ---------------------------------------------------------------- NSE

// The published rule written out: scores sum_j |k_ij|, neurons in descending
// score while the running total stays <= frac * total (at least the top one).
std::set<int64_t> select_direct(const at::Tensor& k, double frac) {
  std::vector<std::pair<double, int64_t>> score;
  double total = 0;
  for (int64_t i = 0; i < k.size(0); ++i) {
    double s = 0;
    for (int64_t j = 0; j < k.size(1); ++j) s += std::abs(k[i][j].item<double>());
    score.emplace_back(s, i);
    total += s;
  }
  std::sort(score.begin(), score.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
  std::set<int64_t> out;
  double running = 0;
  for (const auto& [s, i] : score) {
    running += s;
    if (s == 0 || (running > frac * total && !out.empty())) break;
    out.insert(i);
  }
  return out;
}

TEST(NseEditor, SelectsNeuronsByTheBatchsActivationScore) {
  at::Tensor k = randn({30, 3}, 50);
  k.narrow(0, 0, 3).mul_(20.0);  // three dominant neurons
  for (double frac : {0.05, 0.3, 0.8, 1.0}) {
    const at::Tensor s = select_neurons(k, frac);
    const std::set<int64_t> expect = select_direct(k, frac);
    ASSERT_EQ(static_cast<size_t>(s.numel()), expect.size()) << frac;
    int64_t i = 0;
    for (int64_t e : expect) EXPECT_EQ(s[i++].item<int64_t>(), e);
  }
  EXPECT_EQ(select_neurons(k, 1.0).numel(), 30);
  EXPECT_EQ(select_neurons(k, 1e-6).numel(), 1);  // the top neuron alone exceeds the share
  EXPECT_EQ(select_neurons(at::zeros({5, 2}, at::kDouble), 0.8).numel(), 0);
  EXPECT_THROW(select_neurons(k, 0.0), Error);
}

TEST(NseEditor, UpdatesOnlySelectedNeuronsWithTheRestrictedClosedFormAndItsKeyCache) {
  const int64_t d = 24;
  const at::Tensor c = second_moment(d, 51), r = randn({7, 4}, 52);
  auto keys = [&](uint64_t seed) {
    at::Tensor k = randn({d, 4}, seed) * 0.05;
    k.narrow(0, 4, 6).add_(randn({6, 4}, seed + 100) * 3.0);
    return k;
  };
  const at::Tensor k1 = keys(53), k2 = keys(54);
  NseOptions o;
  o.mom2_update_weight = 2.0;
  NseEditor ed(o);
  ed.set_statistics("l", c);
  EXPECT_TRUE(ed.records_keys());
  // The first batch: no cache yet. Then its keys are recorded, and the second
  // batch's solve includes them.
  auto expect_update = [&](const at::Tensor& k, const at::Tensor& cache) {
    const std::set<int64_t> sel = select_direct(k, 0.8);
    const at::Tensor s = at::tensor(std::vector<int64_t>(sel.begin(), sel.end()), at::kLong);
    const at::Tensor ks = k.index_select(0, s);
    const at::Tensor css = c.index_select(0, s).index_select(1, s);
    const at::Tensor cache_ss = cache.index_select(0, s).index_select(1, s);
    const at::Tensor dws = at::matmul(at::matmul(r, ks.t()), at::inverse(2.0 * css + cache_ss + at::matmul(ks, ks.t())));
    at::Tensor expect = at::zeros({7, d}, at::kDouble);
    expect.index_copy_(1, s, dws);
    return std::make_pair(expect, s);
  };
  const at::Tensor dw1 = ed.compute({"l", k1, r, {}, {}}).materialize();
  const auto [expect1, s1] = expect_update(k1, at::zeros({d, d}, at::kDouble));
  EXPECT_TRUE(at::equal(ed.last_selection(), s1));
  ASSERT_LT(s1.numel(), d);
  EXPECT_LT(rel_err(dw1, expect1), 1e-10);
  for (int64_t col = 0; col < d; ++col) {
    if (!(s1 == col).any().item<bool>()) {
      EXPECT_EQ(dw1.select(1, col).abs().max().item<double>(), 0.0) << col;
    }
  }
  ed.record_keys("l", k1);
  const at::Tensor dw2 = ed.compute({"l", k2, r, {}, {}}).materialize();
  const auto [expect2, s2] = expect_update(k2, at::matmul(k1, k1.t()));
  EXPECT_TRUE(at::equal(ed.last_selection(), s2));
  EXPECT_LT(rel_err(dw2, expect2), 1e-10);
  // The cache is the editor's state, restored exactly into a fresh editor.
  NseEditor restored(o);
  restored.set_statistics("l", c);
  restored.load_state(ed.state());
  EXPECT_LT(rel_err(restored.compute({"l", k2, r, {}, {}}).materialize(), dw2), 1e-12);
}

}  // namespace
}  // namespace revive::edit
