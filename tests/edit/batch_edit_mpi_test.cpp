// A batch edit on a tensor- and data-parallel grid equals the single-process
// edit (DESIGN.md section 3): stories260K under np 1 (tp 1), np 2 (tp 2) and
// np 4 (tp 2 x dp 2) on layers 1-2: MEMIT + REVIVE, RECT, PRUNE, MEMIT with
// RECT's mask as a filter, and NSE (rewound v*, iterative passes); v* and layer
// statistics split over dp. Every rank compares its own shards with the
// single-process result it computes itself. Skipped without the fixture.
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include "lib/edit/run/batch_edit.h"
#include "lib/edit/editors/memit_editor.h"
#include "lib/edit/editors/nse_editor.h"
#include "lib/edit/editors/prune_editor.h"
#include "lib/edit/editors/rect_editor.h"
#include "lib/edit/filters/update_filter.h"
#include "lib/edit/presets.h"
#include "lib/edit/filters/revive_update_filter.h"
#include "lib/spectral/protected_basis.h"
#include "lib/spectral/revive_filter.h"
#include "sharding/comm/local_communicator.h"
#include "sharding/process_grid.h"
#include "tests/edit/stories_edit_fixture.h"
#include "lib/data/story_world.h"
#include "tests/support/fixtures.h"
#include "tests/support/test_world.h"

namespace revive::edit {
namespace {

using revive::testing::world;

// The editor and filters of one distributed-vs-serial comparison. RECT and
// PRUNE are dense editors (the whole W gathered on each tp rank); the RECT mask
// as a filter ranks across the shards without gathering.
enum class Variant { kMemitRevive, kRect, kPrune, kMemitRectFilter, kNse };

const char* variant_name(Variant v) {
  switch (v) {
    case Variant::kMemitRevive: return "MEMIT+REVIVE";
    case Variant::kRect: return "RECT";
    case Variant::kPrune: return "PRUNE";
    case Variant::kMemitRectFilter: return "MEMIT+rect filter";
    case Variant::kNse: return "NSE";
  }
  return "?";
}

const std::vector<std::string>& edited_names() {
  static const std::vector<std::string> names = {"model.layers.1.mlp.down_proj", "model.layers.2.mlp.down_proj"};
  return names;
}

std::unique_ptr<Editor> make_editor(Variant v) {
  const EditPreset& p = find_edit_preset("stories260k");
  switch (v) {
    case Variant::kRect: return std::make_unique<RectEditor>(p.rect());
    case Variant::kPrune: {
      PruneOptions o = p.prune();
      o.log_base = 1.2;  // restrains earlier, so the test exercises the restraint
      return std::make_unique<PruneEditor>(o);
    }
    case Variant::kNse: return std::make_unique<NseEditor>(p.nse());
    default: return std::make_unique<MemitEditor>(p.memit());
  }
}

struct EditedModel {
  std::unique_ptr<model::Transformer> model;
  BatchReport report;
};

EditedModel edit_once(Variant variant, const std::string& folder, const model::Tokenizer& tok,
                      const std::map<std::string, LayerStatistics>& stats, sharding::Communicator& tp,
                      sharding::Communicator* dp_or_null) {
  EditedModel out;
  out.model = model::load_model(folder, tp);
  std::unique_ptr<Editor> editor = make_editor(variant);
  for (const auto& n : edited_names()) editor->set_statistics(n, stats.at(n).second_moment);
  EditPlan plan;
  plan.layers = {1, 2};
  plan.templates = {{"{}"}, {"One day. {}"}};
  plan.values = find_edit_preset("stories260k").values();
  plan.values.steps = 10;
  plan.values.fact_token = FactToken::kSubjectLast;  // requests 3 and 4 below share a key
  if (variant == Variant::kNse) {
    plan.rewind_values = true;
    plan.iterations = find_edit_preset("stories260k").nse_iterations();
    plan.iterations.max_iterations = 3;  // up to two passes; the second edits only the requests still open
    plan.iterations.alpha = 1.0;
    plan.clustering.clusters = 3;  // groups formed alike on every rank
  }
  BatchEditor be(*out.model, tok, *editor, plan, dp_or_null);
  std::vector<std::unique_ptr<spectral::ProtectedBasis>> bases;
  std::vector<std::unique_ptr<spectral::ReviveFilter>> filters;
  for (const auto& n : edited_names()) {
    FilterPipeline fp;
    const sharding::ShardedTensor& w = out.model->linear_weight(n);
    if (variant == Variant::kMemitRevive) {
      spectral::SvdOptions o;
      o.energy = 0.5;
      bases.push_back(std::make_unique<spectral::ProtectedBasis>(spectral::ProtectedBasis::compute(w, n, o)));
      filters.push_back(std::make_unique<spectral::ReviveFilter>(*bases.back()));
      fp.add(std::make_shared<ReviveUpdateFilter>(*filters.back()));
    } else if (variant == Variant::kMemitRectFilter) {
      fp.add(std::make_shared<RectMaskFilter>(0.2));  // ranks across w's shards by itself
    }
    if (!fp.empty()) be.set_filters(n, fp);
  }
  auto requests = data::story_world_requests();
  requests.resize(7);  // uneven over dp 2
  // Requests 3 and 4 share a subject, so one delta: dp 2's even cut (4 | 3)
  // would split them, and the shares must follow the group instead.
  requests[4].subject = requests[3].subject;
  out.report = be.apply(requests);
  // PRUNE restrains after the last batch: this one (on the gathered weights under tp).
  if (variant == Variant::kPrune) {
    EXPECT_EQ(be.finish_run().size(), edited_names().size());
  }
  return out;
}

std::map<std::string, LayerStatistics> statistics(const std::string& folder, const std::string& corpus,
                                                  const model::Tokenizer& tok, sharding::Communicator& tp,
                                                  sharding::Communicator& dp) {
  const auto model = model::load_model(folder, tp);
  return compute_layer_statistics(*model, tok, edited_names(), story_world_statistics(corpus, 60), dp);
}

TEST(BatchEditMpi, EveryShardEqualsTheSingleProcessEdit) {
  REVIVE_REQUIRE_DATA(folder, "stories260K-hf");
  REVIVE_REQUIRE_DATA(corpus, "text_corpora/tinystories_head_2MiB.txt");
  const model::Tokenizer tok = model::Tokenizer::from_file(folder);
  const int n = world().size();
  sharding::GridSpec spec;
  spec.tp = n == 4 ? 2 : n;
  spec.dp = n / spec.tp;
  sharding::ProcessGrid grid(world().split(0, world().rank(), "edit-grid"), spec);
  sharding::LocalCommunicator solo_tp("solo-tp"), solo_dp("solo-dp");
  const auto dist_stats = statistics(folder, corpus, tok, grid.tp(), grid.dp());
  const auto ref_stats = statistics(folder, corpus, tok, solo_tp, solo_dp);
  for (const auto& [name, st] : ref_stats) {
    const at::Tensor d = dist_stats.at(name).second_moment;
    EXPECT_EQ(dist_stats.at(name).tokens, st.tokens);
    EXPECT_LT((d - st.second_moment).abs().max().item<double>(), 1e-5 * st.second_moment.abs().max().item<double>());
  }

  for (Variant v : {Variant::kMemitRevive, Variant::kRect, Variant::kPrune, Variant::kMemitRectFilter, Variant::kNse}) {
    SCOPED_TRACE(variant_name(v));
    const EditedModel dist = edit_once(v, folder, tok, dist_stats, grid.tp(), &grid.dp());
    const EditedModel ref = edit_once(v, folder, tok, ref_stats, solo_tp, nullptr);
    EXPECT_LT((dist.report.values.targets - ref.report.values.targets).abs().max().item<double>(),
              1e-3 * ref.report.values.targets.abs().max().item<double>());
    EXPECT_EQ(dist.report.passes, ref.report.passes);
    EXPECT_EQ(dist.report.pass_requests, ref.report.pass_requests);
    EXPECT_EQ(dist.report.cluster_sizes, ref.report.cluster_sizes);
    if (v == Variant::kNse) {
      EXPECT_GE(ref.report.cluster_sizes.size(), 2u) << "the test should exercise several groups";
      EXPECT_GT(ref.report.passes, static_cast<int64_t>(ref.report.cluster_sizes.size()))
          << "the test should exercise a second pass";
    }
    for (const std::string& name : edited_names()) {
      const sharding::ShardedTensor& w = dist.model->linear_weight(name);
      const at::Tensor full = ref.model->linear_weight(name).local();
      const at::Tensor expect = w.spec().dim < 0 ? full : full.narrow(w.spec().dim, w.spec().offset, w.spec().length);
      const double err = (w.local() - expect).abs().max().item<double>();
      EXPECT_LT(err, 1e-4 * expect.abs().max().item<double>()) << name << " on world rank " << world().rank();
      // The edit did something: the weight moved.
      const at::Tensor before = model::load_model(folder, solo_tp)->linear_weight(name).local();
      EXPECT_GT((full - before).abs().max().item<double>(), 1e-6) << name;
    }
  }
}

}  // namespace
}  // namespace revive::edit
