// Each editor's first batch on stories260K against a dense f64 reference of its
// reference code's formula (docs/editors.md), written out here from the
// formulas and never through the editors' own solves. One layer is edited, so
// the keys K and the residual R = v* - current output are those of the unedited
// model and are read here with direct hooks; the update the product wrote,
// W_after - W_before, must equal the reference within 1e-5 relative (Frobenius).
// The editors are built as `revive edit` builds them: make_editor with the
// default preset (stories260k) and the layer's statistics. PRUNE is covered by
// its own tests.
#include <ATen/ATen.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "lib/data/story_world.h"
#include "lib/edit/editors/editor_factory.h"
#include "lib/edit/editors/request_clustering.h"
#include "lib/edit/presets.h"
#include "lib/edit/run/batch_edit.h"
#include "lib/edit/run/edit_prompts.h"
#include "lib/edit/run/layer_statistics.h"
#include "lib/edit/run/story_world_setup.h"
#include "lib/model/hooks.h"
#include "lib/model/model_loader.h"
#include "lib/model/tokenizer.h"
#include "lib/model/transformer.h"
#include "sharding/comm/local_communicator.h"
#include "tests/support/fixtures.h"

namespace revive::edit {
namespace {

constexpr int64_t kRefLayer = 2;            // one of the preset's edited layers (1, 2)
constexpr size_t kRefRequests = 5;          // the first batch: story-world requests 0..4
constexpr int64_t kRefStatsDocuments = 80;  // enough documents for a full-rank C, and fast
constexpr double kRefTolerance = 1e-5;      // the acceptance's relative error

// ||a - b||_F / ||b||_F, in f64.
double ref_rel_error(const at::Tensor& a, const at::Tensor& b) {
  const double nb = b.to(at::kDouble).norm().item<double>();
  return (a.to(at::kDouble) - b.to(at::kDouble)).norm().item<double>() / std::max(nb, 1e-300);
}

// The update the product wrote must match the reference; the error is printed
// so the acceptance's figures can be read off the test log.
void ref_expect_match(const std::string& editor, const at::Tensor& written, const at::Tensor& reference) {
  const double norm = reference.norm().item<double>();
  const double err = ref_rel_error(written, reference);
  std::cout << "[ reference ] " << editor << ": ||dW - dW_ref|| / ||dW_ref|| = " << err
            << " (||dW_ref|| = " << norm << ")\n";
  EXPECT_GT(norm, 0.0) << editor << ": the reference update is zero, the comparison proves nothing";
  EXPECT_LT(err, kRefTolerance) << editor;
}

// Keys (input of mlp.down_proj) [d_in, n] and block outputs [hidden, n] of
// layer kRefLayer at each request's fact token, f64, one forward per request.
struct RefReads {
  at::Tensor keys, outputs;
};

RefReads ref_read_model(model::Transformer& m, const model::Tokenizer& tok,
                        const std::vector<data::EditRequest>& batch, FactToken fact_token) {
  at::NoGradGuard no_grad;
  std::vector<at::Tensor> keys, outputs;
  for (const data::EditRequest& r : batch) {
    const SubjectPrompt p = encode_subject_prompt(tok, "{}", r.prompt_template, r.subject, fact_token);
    model::Hooks h;
    const size_t key = h.capture_input(kRefLayer, "mlp.down_proj", {{0, p.subject_pos}});
    const size_t out = h.capture_block_output(kRefLayer, {{0, p.subject_pos}});
    model::ForwardOptions f;
    f.hooks = &h;
    m.forward(at::tensor(p.ids, at::kLong).unsqueeze(0), f);
    keys.push_back(h.captured(key).full()[0].to(at::kDouble));
    outputs.push_back(h.block_output(out)[0].to(at::kDouble));
  }
  return {at::stack(keys, 1), at::stack(outputs, 1)};
}

// ---- The reference formulas (f64, explicit inverses: small dense matrices) ----

// MEMIT (memit_main.py): adj_k = solve(lambda C + K K^T, K), dW = R adj_k^T, i.e.
// dW = R K^T (lambda C + K K^T)^{-1}. MemitEditor scales the unscaled C = E[k k^T]
// by mom2_update_weight only (memit_editor.h), so lambda is the preset's value.
at::Tensor ref_memit(const at::Tensor& c, const at::Tensor& k, const at::Tensor& r, double lambda) {
  return r.mm(k.t()).mm(at::linalg_inv(lambda * c + k.mm(k.t())));
}

// AlphaEdit's get_project: U, S = svd(C) of the unscaled second moment;
// P = U0 U0^T over the directions with S < threshold (absolute).
at::Tensor ref_null_space_projector(const at::Tensor& c, double threshold) {
  const auto svd = at::linalg_svd(c, /*full_matrices=*/false);
  const at::Tensor small = at::nonzero(std::get<1>(svd) < threshold).flatten();
  const at::Tensor u0 = std::get<0>(svd).index_select(1, small);
  return u0.mm(u0.t());
}

// AlphaEdit_main.py: upd = solve(P (K K^T + cache) + L2 I, P K R^T), dW = upd^T,
// with the cache empty in the first batch.
at::Tensor ref_alphaedit(const at::Tensor& p, const at::Tensor& k, const at::Tensor& r, double l2) {
  const at::Tensor m = p.mm(k.mm(k.t())) + l2 * at::eye(k.size(0), k.options());
  return at::linalg_inv(m).mm(p).mm(k).mm(r.t()).t();
}

// EMMET (emmet_main.py): C0 = lambda C + mu I (mu = update_norm_lambda = 0),
// D = K^T C0^{-1} K + emmet_lambda I (always added, as EasyEdit and REVIVE do;
// the authors' code only for batches of more than one request: docs/editors.md,
// Known differences 4), dW = R D^{-1} K^T C0^{-1}.
at::Tensor ref_emmet(const at::Tensor& c, const at::Tensor& k, const at::Tensor& r, const EmmetOptions& o) {
  const at::Tensor c0_inv =
      at::linalg_inv(o.mom2_update_weight * c + o.update_norm_lambda * at::eye(c.size(0), c.options()));
  const at::Tensor d = k.t().mm(c0_inv).mm(k) + o.emmet_lambda * at::eye(k.size(1), k.options());
  return r.mm(at::linalg_inv(d)).mm(k.t()).mm(c0_inv);
}

// RECT (memit_rect_main.py): only the top keep fraction of dW's entries by
// relative change |dW| / |W| survive. REVIVE keeps exactly ceil(keep * numel)
// (docs/editors.md, Known differences 3); with no ties that is the same set.
at::Tensor ref_rect(const at::Tensor& dw, const at::Tensor& w, double keep) {
  const at::Tensor rel = (dw.abs() / w.abs()).flatten();
  const int64_t count = static_cast<int64_t>(std::ceil(keep * static_cast<double>(rel.numel())));
  const at::Tensor top = std::get<1>(at::topk(rel, count));
  const at::Tensor mask = at::zeros_like(rel).index_fill_(0, top, 1.0);
  return dw * mask.view_as(dw);
}

// NSE's neurons: sorted by sum_j |k_ij| (descending), kept while the cumulative
// score stays <= threshold of the total, at least the top one; ascending indices.
at::Tensor ref_nse_neurons(const at::Tensor& k, double threshold) {
  const at::Tensor score = k.abs().sum(1);
  const auto sorted = at::sort(score, /*dim=*/0, /*descending=*/true);
  const at::Tensor cumulative = std::get<0>(sorted).cumsum(0);
  const double bound = threshold * score.sum().item<double>();
  int64_t count = 0;
  while (count < score.size(0) && cumulative[count].item<double>() <= bound) ++count;
  return std::get<0>(at::sort(std::get<1>(sorted).narrow(0, 0, std::max<int64_t>(count, 1))));
}

// NSE's neuron-level MEMIT step (nse_editor.h): on the selected neurons S,
// dW[:, S] = R K_S^T (lambda C_SS + cache_SS + K_S K_S^T)^{-1}; other columns 0.
at::Tensor ref_nse_step(const at::Tensor& c, const at::Tensor& cache, const at::Tensor& k,
                        const at::Tensor& r, const NseOptions& o) {
  const at::Tensor s = ref_nse_neurons(k, o.neuron_threshold);
  auto on_s = [&](const at::Tensor& m) { return m.index_select(0, s).index_select(1, s); };
  const at::Tensor ks = k.index_select(0, s);
  const at::Tensor a = o.mom2_update_weight * on_s(c) + on_s(cache) + ks.mm(ks.t());
  at::Tensor dw = at::zeros({r.size(0), k.size(0)}, r.options());
  return dw.index_copy_(1, s, r.mm(ks.t()).mm(at::linalg_inv(a)));
}

// ---- The fixture: stories260K, the layer's statistics, the first batch ----

struct RefRun {
  std::unique_ptr<Editor> editor;
  BatchReport report;
  at::Tensor w0;     // the weight before the batch, f64
  at::Tensor dw;     // what the batch wrote: W_after - W_before, f64
  at::Tensor keys;   // K [d_in, n], read here on the unedited model
  at::Tensor resid;  // R = v* - unedited output [hidden, n]
};

class EditorReference : public ::testing::Test {
 protected:
  void SetUp() override {
    REVIVE_REQUIRE_DATA(folder, "stories260K-hf");
    REVIVE_REQUIRE_DATA(corpus, "text_corpora/tinystories_head_2MiB.txt");
    tok_ = std::make_unique<model::Tokenizer>(model::Tokenizer::from_file(folder));
    model_ = model::load_model(folder, tp_);
    layer_ = model_->module_name({kRefLayer, "mlp.down_proj"});
    sharding::LocalCommunicator dp("dp");
    const StatisticsOptions so = story_world_statistics(corpus, kRefStatsDocuments);
    c_ = compute_layer_statistics(*model_, *tok_, {layer_}, so, dp).at(layer_).second_moment;
    const auto world = data::story_world_requests();
    batch_.assign(world.begin(), world.begin() + static_cast<std::ptrdiff_t>(kRefRequests));
  }

  // The CLI's default preset.
  static const EditPreset& preset() { return find_edit_preset("stories260k"); }

  // story_world_plan with one edited layer and the prompt alone as context.
  static EditPlan plan() {
    EditPlan p = story_world_plan(preset());
    p.layers = {kRefLayer};
    p.templates = {{"{}"}};
    return p;
  }

  // The statistics as the editor got them, in f64.
  at::Tensor c() const { return c_.to(at::kDouble); }

  // Builds `name` as `revive edit` does, applies the first batch with plan `p`,
  // and reads K and R independently of BatchEditor.
  RefRun run_first_batch(const std::string& name, const EditPlan& p) {
    RefRun run;
    run.editor = make_editor(name, preset());
    run.editor->set_statistics(layer_, c_);
    const RefReads unedited = ref_read_model(*model_, *tok_, batch_, p.values.fact_token);
    run.w0 = model_->linear_weight(layer_).local().to(at::kDouble).clone();
    BatchEditor be(*model_, *tok_, *run.editor, p);
    run.report = be.apply(batch_);
    run.dw = model_->linear_weight(layer_).local().to(at::kDouble) - run.w0;
    run.keys = unedited.keys;
    run.resid = run.report.values.targets.to(at::kDouble) - unedited.outputs;
    return run;
  }

  sharding::LocalCommunicator tp_{"tp"};  // before model_: the model refers to it
  std::unique_ptr<model::Tokenizer> tok_;
  std::unique_ptr<model::Transformer> model_;
  std::string layer_;
  at::Tensor c_;  // E[k k^T] of the layer, as compute_layer_statistics returns it
  std::vector<data::EditRequest> batch_;
};

// NSE's first batch as `revive edit --editor nse` runs it (weights rewinding is
// a no-op on the unedited model): the groups of cluster_requests one after
// another; in each, the requests whose distance ||v* - output|| lies in
// (alpha, upper_bound) are edited once (the preset's 2 iterations: one pass,
// the second measurement only decides), then the whole group's keys join the
// cache. With one edited layer its output moves by exactly dW k, so distances
// and residuals follow from K and R. `edited`: requests edited per group.
at::Tensor ref_nse_batch(const RefRun& run, const at::Tensor& c, const EditPreset& preset,
                         const std::vector<std::vector<int64_t>>& groups, std::vector<int64_t>& edited) {
  const IterativeEditing it = preset.nse_iterations();
  at::Tensor dw = at::zeros({run.resid.size(0), run.keys.size(0)}, run.keys.options());
  at::Tensor cache = at::zeros({run.keys.size(0), run.keys.size(0)}, run.keys.options());
  for (const std::vector<int64_t>& group : groups) {
    std::vector<int64_t> open;
    for (int64_t j : group) {
      const double dist = (run.resid.select(1, j) - dw.mv(run.keys.select(1, j))).norm().item<double>();
      if (dist > it.alpha && dist < it.upper_bound) open.push_back(j);
    }
    if (!open.empty()) {
      edited.push_back(static_cast<int64_t>(open.size()));
      const at::Tensor idx = at::tensor(open, at::kLong);
      const at::Tensor k = run.keys.index_select(1, idx);
      dw = dw + ref_nse_step(c, cache, k, run.resid.index_select(1, idx) - dw.mm(k), preset.nse());
    }
    const at::Tensor kg = run.keys.index_select(1, at::tensor(group, at::kLong));
    cache = cache + kg.mm(kg.t());
  }
  return dw;
}

TEST_F(EditorReference, MemitFirstBatchIsTheClosedForm) {
  const RefRun run = run_first_batch("memit", plan());
  ref_expect_match("MEMIT", run.dw, ref_memit(c(), run.keys, run.resid, preset().mom2_update_weight));
}

// The first batch finds the key memory empty, so it is MEMIT's; the batch's
// keys are then remembered as K K^T (memit_seq_main.py's cache_c).
TEST_F(EditorReference, MemitSeqFirstBatchIsMemitWithEmptyMemory) {
  const RefRun run = run_first_batch("memit-seq", plan());
  ref_expect_match("MEMIT-seq", run.dw, ref_memit(c(), run.keys, run.resid, preset().mom2_update_weight));
  const auto state = run.editor->state();
  ASSERT_EQ(state.count("key_cache/" + layer_), 1u);
  EXPECT_LT(ref_rel_error(state.at("key_cache/" + layer_), run.keys.mm(run.keys.t())), kRefTolerance);
}

TEST_F(EditorReference, AlphaEditFirstBatchIsTheNullSpaceClosedForm) {
  const RefRun run = run_first_batch("alphaedit", plan());
  const at::Tensor p = ref_null_space_projector(c(), preset().nullspace_threshold);
  // Neither no null space (a zero update) nor all of it (MEMIT without C); an
  // orthogonal projector's rank is its trace.
  const int64_t rank = std::lround(p.trace().item<double>());
  EXPECT_GT(rank, 0);
  EXPECT_LT(rank, p.size(0));
  ref_expect_match("AlphaEdit", run.dw, ref_alphaedit(p, run.keys, run.resid, preset().alphaedit_l2));
}

// REVIVE's EMMET runs with MEMIT's lambda and adds emmet_lambda to every batch
// (docs/editors.md, Known differences 4): that documented behaviour is tested.
TEST_F(EditorReference, EmmetFirstBatchIsTheEqualityConstrainedClosedForm) {
  const RefRun run = run_first_batch("emmet", plan());
  ref_expect_match("EMMET", run.dw, ref_emmet(c(), run.keys, run.resid, preset().emmet()));
}

// With the CLI's NSE plan: weights rewinding, the preset's iterations and
// clustering. The groups come from cluster_requests (grouping, not update
// math); everything after is the reference here. REVIVE records each group's
// keys once, after the group (docs/editors.md, Known differences 5).
TEST_F(EditorReference, NseFirstBatchIsTheNeuronLevelClosedForm) {
  ASSERT_EQ(preset().nse_max_iterations, 2) << "ref_nse_batch models one editing pass";
  EditPlan p = plan();
  p.rewind_values = true;
  p.iterations = preset().nse_iterations();
  p.clustering = preset().nse_clustering();
  const RefRun run = run_first_batch("nse", p);
  const auto groups = cluster_requests(run.keys, p.clustering);
  std::vector<int64_t> sizes, edited;
  for (const auto& g : groups) sizes.push_back(static_cast<int64_t>(g.size()));
  const at::Tensor ref = ref_nse_batch(run, c(), preset(), groups, edited);
  EXPECT_EQ(run.report.cluster_sizes, sizes);
  EXPECT_EQ(run.report.pass_requests, edited);
  ref_expect_match("NSE", run.dw, ref);
  // Neuron-level: the preset's threshold (0.8) leaves whole columns of W untouched.
  EXPECT_GT((run.dw.abs().sum(0) == 0).sum().item<int64_t>(), 0);
}

// RECT masks MEMIT's update to its top keep fraction (preset: 40%) of entries
// by relative change.
TEST_F(EditorReference, RectFirstBatchIsTheMaskedMemitUpdate) {
  const RefRun run = run_first_batch("rect", plan());
  const at::Tensor memit = ref_memit(c(), run.keys, run.resid, preset().mom2_update_weight);
  const at::Tensor ref = ref_rect(memit, run.w0, preset().rect_keep_fraction);
  // The same entries are kept (a tie at the threshold would show here first).
  EXPECT_EQ(((run.dw != 0) != (ref != 0)).sum().item<int64_t>(), 0);
  ref_expect_match("RECT", run.dw, ref);
}

}  // namespace
}  // namespace revive::edit
