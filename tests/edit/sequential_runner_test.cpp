// The sequential runner on stories260K with 50 story-world requests (issue 5's
// acceptance; skipped without the fixture): MEMIT and AlphaEdit on layers 1-2 in
// batches of 10, with and without REVIVE; NaN rejection leaving weights and the
// last checkpoint intact; checkpoint + resume equal to an uninterrupted run.
#include <ATen/ATen.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <filesystem>
#include <fstream>
#include <cmath>
#include <limits>

#include "lib/edit/editors/alphaedit_editor.h"
#include "lib/edit/run/batch_edit.h"
#include "lib/edit/run/edit_keys.h"
#include "lib/edit/editors/memit_editor.h"
#include "lib/edit/editors/prune_editor.h"
#include "lib/edit/presets.h"
#include "lib/edit/editors/request_clustering.h"
#include "lib/edit/filters/revive_update_filter.h"
#include "lib/edit/run/sequential_runner.h"
#include "lib/edit/run/value_optimizer.h"
#include "lib/model/model_loader.h"
#include "lib/spectral/protected_basis.h"
#include "lib/spectral/revive_filter.h"
#include "sharding/comm/local_communicator.h"
#include "sharding/errors.h"
#include "tests/edit/stories_edit_fixture.h"
#include "lib/data/story_world.h"
#include "tests/support/fixture_files.h"
#include "tests/support/fixtures.h"

namespace revive::edit {
namespace {

// A filter that poisons the update: the runner must reject the batch.
class PoisonFilter : public UpdateFilter {
 public:
  std::string name() const override { return "poison"; }
  WeightUpdate apply(const WeightUpdate& u, const sharding::ShardedTensor&) const override {
    at::Tensor dw = u.materialize().clone();
    dw.view({-1})[0] = std::numeric_limits<float>::quiet_NaN();
    return WeightUpdate::dense(u.layer(), dw);
  }
};

// Passes the first `clean` updates, then poisons (a run interrupted later).
class PoisonAfter : public UpdateFilter {
 public:
  explicit PoisonAfter(int clean) : clean_(clean) {}
  std::string name() const override { return "poison-after"; }
  WeightUpdate apply(const WeightUpdate& u, const sharding::ShardedTensor& w) const override {
    return calls_++ < clean_ ? u : PoisonFilter().apply(u, w);
  }

 private:
  int clean_;
  mutable int calls_ = 0;
};

// Scales a factored update's R and X by `factor` each: both stay finite, their
// product R X^T need not (a finite update that overflows the weight).
class ScaleFactors : public UpdateFilter {
 public:
  explicit ScaleFactors(double factor) : factor_(factor) {}
  std::string name() const override { return "scale-factors"; }
  WeightUpdate apply(const WeightUpdate& u, const sharding::ShardedTensor&) const override {
    return WeightUpdate::factored(u.layer(), u.r() * factor_, u.x() * factor_);
  }

 private:
  double factor_;
};

// Replaces the update by a finite dW of `value` everywhere: the weight stays
// finite, the module's outputs (a sum of 172 such products) overflow.
class FiniteHuge : public UpdateFilter {
 public:
  explicit FiniteHuge(double value) : value_(value) {}
  std::string name() const override { return "finite-huge"; }
  WeightUpdate apply(const WeightUpdate& u, const sharding::ShardedTensor& w) const override {
    return WeightUpdate::dense(u.layer(), at::full(w.local().sizes(), value_, w.local().options()));
  }

 private:
  double value_;
};

constexpr int64_t kMechanicsSteps = 25;  // MEMIT's published v* steps

struct StoriesRun {
  std::string folder, corpus;
  model::Tokenizer tok;
  sharding::LocalCommunicator tp{"tp"};
  std::unique_ptr<model::Transformer> model;
  std::map<std::string, LayerStatistics> stats;
  std::vector<std::string> names = {"model.layers.1.mlp.down_proj", "model.layers.2.mlp.down_proj"};

  StoriesRun(const std::string& f, const std::string& c) : folder(f), corpus(c), tok(model::Tokenizer::from_file(f)) {
    model = model::load_model(folder, tp);
    sharding::LocalCommunicator dp("dp");
    stats = compute_layer_statistics(*model, tok, names, story_world_statistics(corpus, 200), dp);
  }
  std::unique_ptr<Editor> make_editor(const std::string& which) {
    const EditPreset& p = find_edit_preset("stories260k");
    std::unique_ptr<Editor> e;
    if (which == "memit") e = std::make_unique<MemitEditor>(p.memit());
    else e = std::make_unique<AlphaEditEditor>(p.alphaedit());
    for (const auto& n : names) e->set_statistics(n, stats.at(n).second_moment);
    return e;
  }
  // v_steps > 0 overrides the preset's v* steps: tests of the runner's
  // mechanics (rejection, resume) need edits, not the preset's efficacy.
  EditPlan plan(int64_t v_steps = 0) const {
    EditPlan pl = story_world_plan(find_edit_preset("stories260k"));
    if (v_steps > 0) pl.values.steps = v_steps;
    return pl;
  }
};

// The story world's first batch of 10, the one the mechanics tests edit.
std::vector<data::EditRequest> first_story_batch() {
  const auto all = data::story_world_requests();
  return {all.begin(), all.begin() + 10};
}

struct AcceptanceFigures {
  std::vector<double> batch_efficacy;
  double final_efficacy = 0;
  std::vector<nlohmann::json> records;
};

AcceptanceFigures run_story_world(StoriesRun& s, const std::string& editor_name, bool revive) {
  auto editor = s.make_editor(editor_name);
  BatchEditor be(*s.model, s.tok, *editor, s.plan());
  std::vector<std::unique_ptr<spectral::ProtectedBasis>> bases;
  std::vector<std::unique_ptr<spectral::ReviveFilter>> filters;
  if (revive) {
    for (const auto& n : s.names) {
      spectral::SvdOptions o;
      o.energy = 0.5;
      bases.push_back(std::make_unique<spectral::ProtectedBasis>(
          spectral::ProtectedBasis::compute(s.model->linear_weight(n), n, o)));
      filters.push_back(std::make_unique<spectral::ReviveFilter>(*bases.back()));
      FilterPipeline fp;
      fp.add(std::make_shared<ReviveUpdateFilter>(*filters.back()));
      be.set_filters(n, fp);
      be.set_diagnostics(n, s.stats.at(n).second_moment, bases.back()->u().local());
    }
  }
  RunnerOptions ro;
  ro.batch_size = 10;
  SequentialRunner runner(be, ro);
  const auto requests = data::story_world_requests();
  const RunSummary sum = runner.run(requests);
  AcceptanceFigures fig;
  for (const auto& rec : sum.records) fig.batch_efficacy.push_back(rec.at("batch_efficacy").get<double>());
  fig.final_efficacy = SequentialRunner::efficacy(*s.model, s.tok, requests);
  fig.records = sum.records;
  return fig;
}

std::string describe(const AcceptanceFigures& f) {
  std::string s = "batch efficacy:";
  for (double e : f.batch_efficacy) s += " " + std::to_string(e);
  return s + "; final efficacy over all 50: " + std::to_string(f.final_efficacy);
}

class StoryWorldAcceptance : public ::testing::TestWithParam<std::string> {};

TEST_P(StoryWorldAcceptance, FiftyRequestsInBatchesOfTen) {
  REVIVE_REQUIRE_DATA(folder, "stories260K-hf");
  REVIVE_REQUIRE_DATA(corpus, "text_corpora/tinystories_head_2MiB.txt");
  StoriesRun plain(folder, corpus);
  const double before = SequentialRunner::efficacy(*plain.model, plain.tok, data::story_world_requests());
  const AcceptanceFigures f = run_story_world(plain, GetParam(), /*revive=*/false);
  std::cout << "[ figures ] " << GetParam() << ": efficacy before " << before << "; " << describe(f) << "\n";
  ASSERT_EQ(f.batch_efficacy.size(), 5u);
  EXPECT_EQ(before, 0.0) << "target_true is the unedited model's own choice (lib/data/story_world.h)";
  // Issue 5's bar, for both editors: >= 90% per batch right after it is
  // applied, >= 80% over all 50 on the final model. With the preset's v* lr 0.1
  // (presets.cpp) the figures are the same, on one machine and build, for
  // OpenBLAS's Haswell and SkylakeX kernels, one BLAS thread or the default, and
  // f64: MEMIT 1 0.9 1 1 1, final 0.88; AlphaEdit 1 1 1 0.9 1, final 0.94. With
  // the published lr 0.5 they moved with the kernels, threads and dtype
  // (AlphaEdit 0.8-1.0 per batch, final 0.72-0.86), so AlphaEdit was pinned at
  // 0.7. Other request orders: bench_story_world (the bar holds on 2-3 of 8).
  for (double e : f.batch_efficacy) EXPECT_GE(e, 0.9) << describe(f);
  EXPECT_GE(f.final_efficacy, 0.8) << describe(f);

  StoriesRun protected_run(folder, corpus);
  const AcceptanceFigures r = run_story_world(protected_run, GetParam(), /*revive=*/true);
  std::cout << "[ figures ] " << GetParam() << "+REVIVE(tau 0.5): " << describe(r) << "\n";
  ASSERT_EQ(r.batch_efficacy.size(), 5u);
  for (double e : r.batch_efficacy) EXPECT_TRUE(std::isfinite(e));
  // Every record carries the diagnostics that explain it (edit_diagnostics.h).
  for (const nlohmann::json& rec : r.records) {
    const nlohmann::json& v = rec.at("values");
    EXPECT_GT(v.at("z0_norm").get<double>(), 0.0);
    EXPECT_GT(v.at("delta_ratio").get<double>(), 0.0);
    EXPECT_GE(v.at("clamped_fraction").get<double>(), 0.0);
    EXPECT_LE(v.at("clamped_fraction").get<double>(), 1.0);
    for (const auto& [name, m] : rec.at("layers").items()) {
      SCOPED_TRACE(name);
      EXPECT_GT(m.at("disturbance").get<double>(), 0.0);
      // The filter removes part of the update: it writes less of the residual.
      EXPECT_LT(m.at("achieved_filtered").get<double>(), m.at("achieved").get<double>());
      EXPECT_LE(m.at("achieved").get<double>(), 1.0 + 1e-9);
      const double unprotected = m.at("residual_unprotected").get<double>();
      EXPECT_GT(unprotected, 0.0);
      EXPECT_LE(unprotected, 1.0 + 1e-12);
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Editors, StoryWorldAcceptance, ::testing::Values("memit", "alphaedit"));

// NSE's weights rewinding: the second batch's v* is optimised on the original
// weights (equal to v* computed on a freshly loaded model), the edit itself is
// made on the current weights.
TEST(BatchEditor, RewoundValuesAreOptimisedOnTheOriginalWeights) {
  REVIVE_REQUIRE_DATA(folder, "stories260K-hf");
  REVIVE_REQUIRE_DATA(corpus, "text_corpora/tinystories_head_2MiB.txt");
  StoriesRun s(folder, corpus);
  const std::unique_ptr<model::Transformer> original = model::load_model(folder, s.tp);
  auto editor = s.make_editor("memit");
  EditPlan plan = s.plan();
  plan.values.steps = 10;
  plan.rewind_values = true;
  BatchEditor be(*s.model, s.tok, *editor, plan);
  const auto requests = data::story_world_requests();
  const std::vector<data::EditRequest> first(requests.begin(), requests.begin() + 10);
  const std::vector<data::EditRequest> second(requests.begin() + 10, requests.begin() + 20);
  be.apply(first);

  const int64_t last = plan.layers.back();
  const ValueResult on_original = compute_values(*original, s.tok, second, last, plan.templates, plan.values);
  const ValueResult on_edited = compute_values(*s.model, s.tok, second, last, plan.templates, plan.values);
  auto rel = [](const at::Tensor& a, const at::Tensor& b) {
    return (a.to(at::kDouble) - b.to(at::kDouble)).norm().item<double>() / b.to(at::kDouble).norm().item<double>();
  };
  ASSERT_GT(rel(on_edited.targets, on_original.targets), 1e-3) << "the first batch did not move v*";

  std::map<std::string, at::Tensor> after_first;
  for (const auto& n : s.names) after_first[n] = s.model->linear_weight(n).local().clone();
  const BatchReport r = be.apply(second);
  EXPECT_LT(rel(r.values.targets, on_original.targets), 1e-4);
  EXPECT_LT(rel(r.values.initial, on_original.initial), 1e-5);
  // The update was added to the edited weights, not to the rewound ones.
  ASSERT_EQ(r.layers.size(), s.names.size());
  for (size_t i = 0; i < s.names.size(); ++i) {
    const at::Tensor step = s.model->linear_weight(s.names[i]).local().to(at::kDouble) - after_first.at(s.names[i]).to(at::kDouble);
    EXPECT_GT(r.layers[i].filtered_norm, 0.0);
    EXPECT_NEAR(step.norm().item<double>(), r.layers[i].filtered_norm, 1e-4 * r.layers[i].filtered_norm) << s.names[i];
  }
}

// NSE's iterative editing (iterative_editing.h): the published loop's
// measure-then-pass semantics, on any editor.
TEST(BatchEditor, IterativeEditingPassesOverTheRequestsStillOpen) {
  REVIVE_REQUIRE_DATA(folder, "stories260K-hf");
  REVIVE_REQUIRE_DATA(corpus, "text_corpora/tinystories_head_2MiB.txt");
  StoriesRun s(folder, corpus);
  const std::vector<data::EditRequest> batch = first_story_batch();
  std::map<std::string, at::Tensor> original;
  for (const auto& n : s.names) original[n] = s.model->linear_weight(n).local().clone();
  auto restore = [&] {
    at::NoGradGuard no_grad;
    for (const auto& n : s.names) s.model->linear_weight(n).local().copy_(original.at(n));
  };
  auto weights = [&] {
    std::map<std::string, at::Tensor> w;
    for (const auto& n : s.names) w[n] = s.model->linear_weight(n).local().clone();
    return w;
  };
  auto distances = [&](const BatchReport& r) {
    return (r.values.targets -
            block_outputs_at_subject(*s.model, s.tok, batch, s.plan().layers.back(), 64, s.plan().values.fact_token))
        .to(at::kDouble)
        .norm(2, {0});
  };
  auto edit = [&](const IterativeEditing& it) {
    auto editor = s.make_editor("memit");
    EditPlan plan = s.plan(10);
    plan.iterations = it;
    BatchEditor be(*s.model, s.tok, *editor, plan);
    return be.apply(batch);
  };

  const BatchReport once = edit({});
  EXPECT_EQ(once.passes, 1);
  const auto once_w = weights();
  const at::Tensor once_d = distances(once);
  restore();

  IterativeEditing it;
  it.enabled = true;
  it.alpha = 1e9;  // every request already counts as done: nothing is edited
  it.upper_bound = 2e9;
  const BatchReport none = edit(it);
  EXPECT_EQ(none.passes, 0);
  EXPECT_EQ(none.converged, 10);
  for (const auto& n : s.names) EXPECT_TRUE(at::equal(s.model->linear_weight(n).local(), original.at(n))) << n;

  it.alpha = 0.0;  // every request is open at the first measurement
  it.upper_bound = 1e9;
  it.max_iterations = 2;  // one pass: the second measurement only decides
  const BatchReport single = edit(it);
  EXPECT_EQ(single.passes, 1);
  EXPECT_EQ(single.pass_requests, (std::vector<int64_t>{10}));
  for (const auto& n : s.names) {
    EXPECT_LT((s.model->linear_weight(n).local() - once_w.at(n)).abs().max().item<double>(), 1e-6) << n;
  }
  restore();

  it.alpha = once_d.median().item<double>();  // half the requests are done after the first pass
  it.max_iterations = 4;
  const BatchReport iterative = edit(it);
  const at::Tensor after = distances(iterative);
  EXPECT_GE(iterative.passes, 2);
  EXPECT_LE(iterative.passes, 3);
  ASSERT_EQ(iterative.pass_requests.size(), static_cast<size_t>(iterative.passes));
  EXPECT_EQ(iterative.pass_requests[0], 10);
  for (size_t m = 1; m < iterative.pass_requests.size(); ++m) {
    EXPECT_LT(iterative.pass_requests[m], 10);
    EXPECT_GT(iterative.pass_requests[m], 0);
  }
  EXPECT_EQ(iterative.layers.size(), s.names.size() * static_cast<size_t>(iterative.passes));
  // The last measurement is of the final model.
  EXPECT_EQ(iterative.converged, (after <= it.alpha).sum().item<int64_t>());
  EXPECT_EQ(iterative.given_up, 0);
  // The first pass is `once`'s edit, so the second edits exactly the requests it
  // left beyond alpha.
  EXPECT_EQ(iterative.pass_requests[1], (once_d > it.alpha).sum().item<int64_t>());
}

TEST(BatchEditor, EditsLeaveTheFirstEditedLayersKeysUnchanged) {
  // BatchEditor computes the first edited layer's keys once per batch and uses
  // them for the clustering, every pass and the key memory: they are the input of
  // the lowest edited module, which no edited weight precedes. The second layer's
  // keys, downstream of the first layer's edit, do change.
  REVIVE_REQUIRE_DATA(folder, "stories260K-hf");
  REVIVE_REQUIRE_DATA(corpus, "text_corpora/tinystories_head_2MiB.txt");
  StoriesRun s(folder, corpus);
  const std::vector<data::EditRequest> batch = first_story_batch();
  const EditPlan plan = s.plan(kMechanicsSteps);
  auto keys_of = [&](int64_t layer) {
    return compute_keys(*s.model, s.tok, batch, layer, plan.module, plan.templates, 64, plan.values.fact_token);
  };
  const at::Tensor first_before = keys_of(plan.layers[0]), second_before = keys_of(plan.layers[1]);
  auto editor = s.make_editor("memit");
  BatchEditor be(*s.model, s.tok, *editor, plan);
  be.apply(batch);
  EXPECT_TRUE(at::equal(keys_of(plan.layers[0]), first_before));
  EXPECT_GT((keys_of(plan.layers[1]) - second_before).abs().max().item<double>(), 1e-4);
}

TEST(BatchEditor, RequestClustersAreEditedOneAfterAnother) {
  // NSE's clustering: the batch splits into groups by neuron overlap at the first
  // edited layer, edited in turn toward v* computed once for the whole batch, each
  // group's keys joining the cache when it is done. With v* on the original
  // weights (rewinding), that equals editing each group as its own batch in the
  // same order: for MEMIT (no state) and for AlphaEdit, whose key cache makes the
  // later groups' solves depend on the earlier groups' keys.
  REVIVE_REQUIRE_DATA(folder, "stories260K-hf");
  REVIVE_REQUIRE_DATA(corpus, "text_corpora/tinystories_head_2MiB.txt");
  StoriesRun s(folder, corpus);
  const std::vector<data::EditRequest> batch = first_story_batch();
  EditPlan plan = s.plan(kMechanicsSteps);
  plan.rewind_values = true;
  plan.clustering.clusters = 3;
  plan.clustering.neuron_threshold = 0.8;
  const at::Tensor keys =
      compute_keys(*s.model, s.tok, batch, plan.layers[0], plan.module, plan.templates, 64, plan.values.fact_token);
  const auto groups = cluster_requests(keys, plan.clustering);
  ASSERT_GE(groups.size(), 2u);
  std::vector<int64_t> sizes;
  for (const auto& g : groups) sizes.push_back(static_cast<int64_t>(g.size()));

  std::map<std::string, at::Tensor> original;
  for (const auto& n : s.names) original[n] = s.model->linear_weight(n).local().clone();
  auto restore = [&] {
    at::NoGradGuard no_grad;
    for (const auto& n : s.names) s.model->linear_weight(n).local().copy_(original.at(n));
  };
  for (const std::string which : {"memit", "alphaedit"}) {
    SCOPED_TRACE(which);
    std::map<std::string, at::Tensor> clustered;
    auto editor = s.make_editor(which);
    {
      BatchEditor be(*s.model, s.tok, *editor, plan);
      const BatchReport r = be.apply(batch);
      EXPECT_EQ(r.cluster_sizes, sizes);
      EXPECT_EQ(r.passes, static_cast<int64_t>(groups.size()));
      EXPECT_EQ(r.pass_requests, sizes);
      EXPECT_EQ(r.layers.size(), s.names.size() * groups.size());
    }
    for (const auto& n : s.names) clustered[n] = s.model->linear_weight(n).local().clone();
    restore();
    EditPlan whole = plan;
    whole.clustering = {};
    auto apart_editor = s.make_editor(which);
    BatchEditor be(*s.model, s.tok, *apart_editor, whole);
    for (const auto& g : groups) {
      std::vector<data::EditRequest> part;
      for (int64_t j : g) part.push_back(batch[static_cast<size_t>(j)]);
      EXPECT_EQ(be.apply(part).cluster_sizes, (std::vector<int64_t>{static_cast<int64_t>(g.size())}));
    }
    for (const auto& n : s.names) {
      const at::Tensor update = clustered.at(n) - original.at(n);
      const at::Tensor apart = s.model->linear_weight(n).local() - original.at(n);
      ASSERT_GT(update.norm().item<double>(), 0.0) << n;
      EXPECT_LT((update - apart).norm().item<double>(), 1e-3 * update.norm().item<double>()) << n;
    }
    const auto cache = editor->state(), apart_cache = apart_editor->state();
    ASSERT_EQ(cache.size(), apart_cache.size());
    for (const auto& [name, c] : cache) {
      EXPECT_LT((c - apart_cache.at(name)).norm().item<double>(), 1e-4 * c.norm().item<double>()) << name;
    }
    restore();
  }
}

TEST(SequentialRunner, NanUpdateIsRejectedAndLeavesWeightsAndCheckpointIntact) {
  REVIVE_REQUIRE_DATA(folder, "stories260K-hf");
  REVIVE_REQUIRE_DATA(corpus, "text_corpora/tinystories_head_2MiB.txt");
  StoriesRun s(folder, corpus);
  auto editor = s.make_editor("memit");
  const std::string out = revive::testing::temp_dir("runner-nan");
  const auto requests = data::story_world_requests();
  {
    BatchEditor be(*s.model, s.tok, *editor, s.plan(kMechanicsSteps));
    RunnerOptions ro;
    ro.batch_size = 10;
    ro.num_edits = 10;
    ro.checkpoint_every = 10;
    ro.out_dir = out;
    SequentialRunner(be, ro).run(requests);
  }
  const std::string latest = out + "/checkpoints/latest";
  std::ifstream lin(latest);
  std::string pointer;
  std::getline(lin, pointer);
  ASSERT_EQ(pointer, "edits-10");
  const std::string weights_file = out + "/checkpoints/edits-10/weights.tp0.safetensors";
  const auto file_bytes = std::filesystem::file_size(weights_file);

  std::map<std::string, at::Tensor> before;
  for (const auto& n : s.names) before[n] = s.model->linear_weight(n).local().clone();
  BatchEditor be(*s.model, s.tok, *editor, s.plan(kMechanicsSteps));
  FilterPipeline poison;
  poison.add(std::make_shared<PoisonFilter>());
  be.set_filters(s.names[1], poison);  // layer 1 is written first, then layer 2 fails
  RunnerOptions ro;
  ro.batch_size = 10;
  ro.num_edits = 20;
  ro.checkpoint_every = 10;
  ro.out_dir = out;
  ro.resume = true;
  try {
    SequentialRunner(be, ro).run(requests);
    FAIL() << "a NaN update was accepted";
  } catch (const Error& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("edits 11..20"), std::string::npos) << msg;
    EXPECT_NE(msg.find("NaN"), std::string::npos) << msg;
    EXPECT_NE(msg.find("edits-10"), std::string::npos) << msg;
  }
  for (const auto& n : s.names) {
    EXPECT_TRUE(at::equal(s.model->linear_weight(n).local(), before.at(n))) << n << " changed";
  }
  std::ifstream lin2(latest);
  std::getline(lin2, pointer);
  EXPECT_EQ(pointer, "edits-10");
  EXPECT_EQ(std::filesystem::file_size(weights_file), file_bytes);
}

// A finite update can still leave the model non-finite: the batch is rejected
// like a NaN update, the weights and AlphaEdit's key memory (recorded before the
// check) exactly as they were.
TEST(BatchEditor, AFiniteUpdateThatOverflowsIsRejectedWithWeightsAndKeyMemoryRestored) {
  REVIVE_REQUIRE_DATA(folder, "stories260K-hf");
  REVIVE_REQUIRE_DATA(corpus, "text_corpora/tinystories_head_2MiB.txt");
  StoriesRun s(folder, corpus);
  auto editor = s.make_editor("alphaedit");
  const auto requests = data::story_world_requests();
  const std::vector<data::EditRequest> first(requests.begin(), requests.begin() + 5);
  const std::vector<data::EditRequest> second(requests.begin() + 5, requests.begin() + 10);
  {
    BatchEditor clean(*s.model, s.tok, *editor, s.plan(kMechanicsSteps));
    const BatchReport rep = clean.apply(first);  // a non-zero key memory to keep
    EXPECT_GT(rep.seconds_efficacy, 0.0) << "an accepted batch is checked too";
    EXPECT_EQ(rep.efficacy, SequentialRunner::efficacy(*s.model, s.tok, first)) << "the check's scores are the efficacy";
  }
  auto* alpha = dynamic_cast<AlphaEditEditor*>(editor.get());
  ASSERT_NE(alpha, nullptr);
  struct Case {
    std::shared_ptr<UpdateFilter> filter;
    std::string expect;
  };
  const std::vector<Case> cases = {{std::make_shared<ScaleFactors>(1e25), "NaN/Inf entries (overflow)"},
                                   {std::make_shared<FiniteHuge>(3e38), "is not finite"}};
  for (const Case& c : cases) {
    std::map<std::string, at::Tensor> weights, memory;
    for (const auto& n : s.names) {
      weights[n] = s.model->linear_weight(n).local().clone();
      memory[n] = alpha->key_cache(n).clone();
    }
    ASSERT_GT(memory.at(s.names[1]).abs().sum().item<double>(), 0.0);
    BatchEditor be(*s.model, s.tok, *editor, s.plan(kMechanicsSteps));
    FilterPipeline bad;
    bad.add(c.filter);
    be.set_filters(s.names[1], bad);  // the last layer: keys are recorded before the check fails
    try {
      be.apply(second);
      ADD_FAILURE() << c.filter->name() << ": the batch was accepted";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(c.expect), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find("restored"), std::string::npos) << e.what();
    }
    for (const auto& n : s.names) {
      EXPECT_TRUE(at::equal(s.model->linear_weight(n).local(), weights.at(n))) << c.filter->name() << ": " << n;
      EXPECT_TRUE(at::equal(alpha->key_cache(n), memory.at(n))) << c.filter->name() << ": key memory of " << n;
    }
  }
}

// A v* learning rate and clamp far out of range drive the target's probability
// to 0 in f32: the v* loss is inf though the delta is finite. The batch is
// rejected before any weight is written.
TEST(BatchEditor, AValueWhoseLossOverflowsIsRejectedBeforeAnyEdit) {
  REVIVE_REQUIRE_DATA(folder, "stories260K-hf");
  REVIVE_REQUIRE_DATA(corpus, "text_corpora/tinystories_head_2MiB.txt");
  StoriesRun s(folder, corpus);
  auto editor = s.make_editor("memit");
  std::map<std::string, at::Tensor> weights;
  for (const auto& n : s.names) weights[n] = s.model->linear_weight(n).local().clone();
  EditPlan plan = s.plan(kMechanicsSteps);
  plan.values.lr = 1e20;
  plan.values.clamp_norm_factor = 1e30;
  BatchEditor be(*s.model, s.tok, *editor, plan);
  try {
    be.apply(first_story_batch());
    ADD_FAILURE() << "the batch was accepted";
  } catch (const Error& e) {
    for (const char* part : {"the v* optimisation of request", "ended with a loss of inf", "not touched"}) {
      EXPECT_NE(std::string(e.what()).find(part), std::string::npos) << e.what();
    }
  }
  for (const auto& n : s.names) EXPECT_TRUE(at::equal(s.model->linear_weight(n).local(), weights.at(n))) << n;
}

TEST(SequentialRunner, ResumeFromCheckpointEqualsAnUninterruptedRun) {
  REVIVE_REQUIRE_DATA(folder, "stories260K-hf");
  REVIVE_REQUIRE_DATA(corpus, "text_corpora/tinystories_head_2MiB.txt");
  const auto requests = data::story_world_requests();
  auto run = [&](const std::string& out, int64_t edits, bool resume, StoriesRun& s, Editor& editor) {
    BatchEditor be(*s.model, s.tok, editor, s.plan(kMechanicsSteps));
    RunnerOptions ro;
    ro.batch_size = 10;
    ro.num_edits = edits;
    ro.checkpoint_every = 10;
    ro.metrics_every = 10;
    ro.out_dir = out;
    ro.resume = resume;
    return SequentialRunner(be, ro).run(requests);
  };
  // Uninterrupted: 30 edits with AlphaEdit (its key cache is part of the state).
  StoriesRun a(folder, corpus);
  auto ea = a.make_editor("alphaedit");
  run(revive::testing::temp_dir("runner-straight"), 30, false, a, *ea);
  // Interrupted after 20, then a fresh process (new model, new editor) resumes.
  const std::string out = revive::testing::temp_dir("runner-resume");
  {
    StoriesRun b(folder, corpus);
    auto eb = b.make_editor("alphaedit");
    run(out, 20, false, b, *eb);
  }
  StoriesRun c(folder, corpus);
  auto ec = c.make_editor("alphaedit");
  const RunSummary sum = run(out, 30, true, c, *ec);
  EXPECT_EQ(sum.resumed_from, 20);
  EXPECT_EQ(sum.edits, 30);
  for (const auto& n : a.names) {
    const double diff = (c.model->linear_weight(n).local() - a.model->linear_weight(n).local()).abs().max().item<double>();
    EXPECT_LT(diff, 1e-5) << n;
  }
  // metrics.jsonl holds one record per 10 edits, none duplicated.
  std::ifstream in(out + "/metrics.jsonl");
  std::string line;
  std::vector<int64_t> edits;
  while (std::getline(in, line)) edits.push_back(nlohmann::json::parse(line).at("edits").get<int64_t>());
  EXPECT_EQ(edits, (std::vector<int64_t>{10, 20, 30}));
}

// A checkpoint between metrics records saves the record's window, so the
// resumed run's next record averages the same batches as the uninterrupted
// run's. A run folder whose 'latest' pointer is gone, or whose metrics file is
// damaged before its last line, is refused rather than overwritten.
TEST(SequentialRunner, AResumeBetweenRecordsAveragesTheSameBatches) {
  REVIVE_REQUIRE_DATA(folder, "stories260K-hf");
  REVIVE_REQUIRE_DATA(corpus, "text_corpora/tinystories_head_2MiB.txt");
  const auto requests = data::story_world_requests();
  auto options = [](const std::string& out, bool resume) {
    RunnerOptions ro;
    ro.batch_size = 10;
    ro.num_edits = 30;
    ro.checkpoint_every = 10;
    ro.metrics_every = 30;  // one record, at 30; checkpoints at 10 and 20
    ro.out_dir = out;
    ro.resume = resume;
    return ro;
  };
  StoriesRun a(folder, corpus);
  auto ea = a.make_editor("memit");
  BatchEditor bea(*a.model, a.tok, *ea, a.plan(kMechanicsSteps));
  const RunSummary straight = SequentialRunner(bea, options(revive::testing::temp_dir("window-straight"), false)).run(requests);
  // Interrupted: batch 2 is rejected, after the checkpoint at 10 edits.
  const std::string out = revive::testing::temp_dir("window-resume");
  {
    StoriesRun b(folder, corpus);
    auto eb = b.make_editor("memit");
    BatchEditor beb(*b.model, b.tok, *eb, b.plan(kMechanicsSteps));
    FilterPipeline poison;
    poison.add(std::make_shared<PoisonAfter>(1));
    beb.set_filters(b.names[1], poison);
    EXPECT_THROW(SequentialRunner(beb, options(out, false)).run(requests), Error);
  }
  StoriesRun c(folder, corpus);
  auto ec = c.make_editor("memit");
  BatchEditor bec(*c.model, c.tok, *ec, c.plan(kMechanicsSteps));
  const RunSummary resumed = SequentialRunner(bec, options(out, true)).run(requests);
  ASSERT_EQ(resumed.resumed_from, 10);
  ASSERT_EQ(straight.records.size(), 1u);
  ASSERT_EQ(resumed.records.size(), 1u);
  for (const char* key : {"batch_efficacy_window", "value_loss", "value_prob", "passes_per_batch"}) {
    EXPECT_NEAR(resumed.records[0].at(key).get<double>(), straight.records[0].at(key).get<double>(), 1e-6) << key;
  }

  const std::string metrics = out + "/metrics.jsonl";
  const std::string kept = revive::testing::read_text(metrics);
  std::ofstream(metrics, std::ios::binary) << "{torn\n" + kept;
  try {
    SequentialRunner(bec, options(out, true)).run(requests);
    ADD_FAILURE() << "a damaged metrics line was dropped";
  } catch (const InputError& e) {
    EXPECT_EQ(e.field(), "line 1") << e.what();
  }
  EXPECT_EQ(revive::testing::read_text(metrics), "{torn\n" + kept);  // left for the user to mend
  std::ofstream(metrics, std::ios::binary) << kept;

  std::filesystem::remove(out + "/checkpoints/latest");
  for (bool resume : {true, false}) {
    try {
      SequentialRunner(bec, options(out, resume)).run(requests);
      ADD_FAILURE() << "a run folder without its 'latest' pointer was " << (resume ? "resumed afresh" : "overwritten");
    } catch (const InputError& e) {
      EXPECT_NE(std::string(e.what()).find("edits-30"), std::string::npos) << e.what();
    }
  }
  EXPECT_EQ(revive::testing::read_text(metrics), kept);
  std::ofstream(out + "/checkpoints/latest", std::ios::binary) << std::string("edits-30\0x", 10);
  try {
    SequentialRunner(bec, options(out, true)).run(requests);
    ADD_FAILURE() << "a damaged 'latest' pointer was followed";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("'edits-30?x', not the name of a checkpoint folder"), std::string::npos)
        << e.what();
  }
}

// A measurement failing after a batch names the batch and the last checkpoint.
TEST(SequentialRunner, AFailingEvaluationNamesTheBatchAndTheLastCheckpoint) {
  REVIVE_REQUIRE_DATA(folder, "stories260K-hf");
  REVIVE_REQUIRE_DATA(corpus, "text_corpora/tinystories_head_2MiB.txt");
  StoriesRun s(folder, corpus);
  auto editor = s.make_editor("memit");
  BatchEditor be(*s.model, s.tok, *editor, s.plan(kMechanicsSteps));
  RunnerOptions ro;
  ro.batch_size = 10;
  ro.num_edits = 20;
  ro.checkpoint_every = 10;
  ro.out_dir = revive::testing::temp_dir("runner-eval-fails");
  SequentialRunner runner(be, ro);
  runner.set_evaluator([](int64_t edits, const std::vector<data::EditRequest>&) -> nlohmann::json {
    if (edits == 20) throw std::runtime_error("lapack: dsterf failed");
    return nlohmann::json::object();
  });
  try {
    runner.run(data::story_world_requests());
    ADD_FAILURE() << "the failing evaluation was not reported";
  } catch (const Error& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("the evaluation after batch 2 (edits 11..20) failed: lapack: dsterf failed"), std::string::npos)
        << msg;
    EXPECT_NE(msg.find("last checkpoint: edits-10"), std::string::npos) << msg;
  }
}

// PRUNE restrains once, after the last batch, as its reference codes: until then
// the run is MEMIT's, and the last batch's weights become W0 + F(W - W0). The last
// record says so, and its checkpoint (marked finished) resumes a run of the same
// length only. MEMIT's lambda is lowered so the accumulated update's top
// singular values pass W0's (the restraint is exercised, asserted).
TEST(SequentialRunner, PruneRestrainsOnceAfterTheLastBatch) {
  REVIVE_REQUIRE_DATA(folder, "stories260K-hf");
  REVIVE_REQUIRE_DATA(corpus, "text_corpora/tinystories_head_2MiB.txt");
  const auto requests = data::story_world_requests();
  EditPreset preset = find_edit_preset("stories260k");
  preset.mom2_update_weight = 0.5;
  auto run = [&](const std::string& out, int64_t edits, bool resume, StoriesRun& s, Editor& editor) {
    for (const auto& n : s.names) editor.set_statistics(n, s.stats.at(n).second_moment);
    BatchEditor be(*s.model, s.tok, editor, s.plan(kMechanicsSteps));
    RunnerOptions ro;
    ro.batch_size = 10;
    ro.num_edits = edits;
    ro.checkpoint_every = 10;
    ro.out_dir = out;
    ro.resume = resume;
    return SequentialRunner(be, ro).run(requests);
  };
  StoriesRun memit_run(folder, corpus);
  MemitEditor memit(preset.memit());
  run(revive::testing::temp_dir("runner-prune-memit"), 20, false, memit_run, memit);
  StoriesRun prune_run(folder, corpus);
  PruneEditor prune(preset.prune());
  const std::string out = revive::testing::temp_dir("runner-prune");
  const RunSummary sum = run(out, 20, false, prune_run, prune);
  ASSERT_EQ(sum.records.size(), 2u);
  EXPECT_FALSE(sum.records[0].contains("final_step"));
  ASSERT_TRUE(sum.records[1].contains("final_step")) << sum.records[1].dump();
  EXPECT_EQ(sum.records[1]["final_step"]["editor"], "PRUNE");
  int restrained = 0;
  for (const auto& n : prune_run.names) {
    const at::Tensor w0 = model::load_model(folder, prune_run.tp)->linear_weight(n).local().to(at::kDouble);
    const double sigma0 = at::linalg_matrix_norm(w0, 2).item<double>();
    const at::Tensor acc = memit_run.model->linear_weight(n).local().to(at::kDouble) - w0;
    restrained += at::linalg_matrix_norm(acc, 2).item<double>() > sigma0;
    const at::Tensor expect = w0 + prune_restrain(acc, sigma0, std::exp(1.0));
    const at::Tensor got = prune_run.model->linear_weight(n).local().to(at::kDouble);
    EXPECT_LT((got - expect).norm().item<double>() / expect.norm().item<double>(), 1e-6) << n;
    EXPECT_GT(sum.records[1]["final_step"]["layers"][n]["update_norm"].get<double>(), 0.0) << n;
  }
  EXPECT_GT(restrained, 0);
  const auto state = nlohmann::json::parse(std::ifstream(out + "/checkpoints/edits-20/state.json"));
  EXPECT_TRUE(state.value("finished", false));
  {  // a longer run cannot continue from the restrained weights
    StoriesRun again(folder, corpus);
    PruneEditor more(preset.prune());
    try {
      run(out, 30, true, again, more);
      ADD_FAILURE() << "a longer run resumed from the restrained checkpoint";
    } catch (const InputError& e) {
      EXPECT_NE(std::string(e.what()).find("finished"), std::string::npos) << e.what();
    }
  }
  {
    StoriesRun same(folder, corpus);
    PruneEditor done(preset.prune());
    const RunSummary again = run(out, 20, true, same, done);  // the finished run: nothing left
    EXPECT_EQ(again.resumed_from, 20);
    EXPECT_TRUE(again.records.empty());
  }
  // A longer run's checkpoint (unfinished) resumed as a run of exactly its
  // length gets the step then: a record of its own, a finished checkpoint.
  auto unfinished = state;
  unfinished.erase("finished");
  std::ofstream(out + "/checkpoints/edits-20/state.json") << unfinished.dump(2);
  StoriesRun shorter(folder, corpus);
  PruneEditor last(preset.prune());
  const RunSummary resumed = run(out, 20, true, shorter, last);
  ASSERT_EQ(resumed.records.size(), 1u);
  EXPECT_EQ(resumed.records[0]["final_step"]["editor"], "PRUNE");
  EXPECT_TRUE(nlohmann::json::parse(std::ifstream(out + "/checkpoints/edits-20/state.json")).value("finished", false));
}

}  // namespace
}  // namespace revive::edit
