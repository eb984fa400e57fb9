// A batch edit on a tensor- and data-parallel grid equals the single-process
// edit (DESIGN.md section 3): stories260K under np 1 (tp 1), np 2 (tp 2) and
// np 4 (tp 2 x dp 2), MEMIT + REVIVE on layers 1-2, v* split over dp, layer
// statistics split over dp. Every rank compares its own shards with the
// single-process result it computes itself. Skipped without the fixture.
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include "lib/edit/batch_edit.h"
#include "lib/edit/memit_editor.h"
#include "lib/edit/presets.h"
#include "lib/edit/revive_update_filter.h"
#include "lib/spectral/protected_basis.h"
#include "lib/spectral/revive_filter.h"
#include "sharding/comm/local_communicator.h"
#include "sharding/process_grid.h"
#include "tests/edit/stories_edit_fixture.h"
#include "tests/edit/story_world.h"
#include "tests/support/fixtures.h"
#include "tests/support/test_world.h"

namespace revive::edit {
namespace {

using revive::testing::world;

struct EditedModel {
  std::unique_ptr<model::Transformer> model;
  std::map<std::string, LayerStatistics> stats;
  BatchReport report;
};

EditedModel edit_once(const std::string& folder, const std::string& corpus, const model::Tokenizer& tok,
                      sharding::Communicator& tp, sharding::Communicator* dp_or_null) {
  const std::vector<std::string> names = {"model.layers.1.mlp.down_proj", "model.layers.2.mlp.down_proj"};
  EditedModel out;
  out.model = model::load_model(folder, tp);
  sharding::LocalCommunicator solo("solo-dp");
  sharding::Communicator& dp = dp_or_null != nullptr ? *dp_or_null : solo;
  out.stats = compute_layer_statistics(*out.model, tok, names, testing::stories_statistics(corpus, 60), dp);
  MemitEditor editor(find_edit_preset("stories260k").memit());
  for (const auto& n : names) editor.set_statistics(n, out.stats.at(n).second_moment);
  EditPlan plan;
  plan.layers = {1, 2};
  plan.templates = {{"{}"}, {"One day. {}"}};
  plan.values = find_edit_preset("stories260k").values();
  plan.values.steps = 10;
  BatchEditor be(*out.model, tok, editor, plan, dp_or_null);
  std::vector<std::unique_ptr<spectral::ProtectedBasis>> bases;
  std::vector<std::unique_ptr<spectral::ReviveFilter>> filters;
  for (const auto& n : names) {
    spectral::SvdOptions o;
    o.energy = 0.5;
    bases.push_back(std::make_unique<spectral::ProtectedBasis>(
        spectral::ProtectedBasis::compute(out.model->linear_weight(n), n, o)));
    filters.push_back(std::make_unique<spectral::ReviveFilter>(*bases.back()));
    FilterPipeline fp;
    fp.add(std::make_shared<ReviveUpdateFilter>(*filters.back()));
    be.set_filters(n, fp);
  }
  auto requests = testing::story_world_requests();
  requests.resize(7);  // uneven over dp 2
  out.report = be.apply(requests);
  return out;
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
  const EditedModel dist = edit_once(folder, corpus, tok, grid.tp(), &grid.dp());

  sharding::LocalCommunicator solo_tp("solo-tp");
  const EditedModel ref = edit_once(folder, corpus, tok, solo_tp, nullptr);

  for (const auto& [name, st] : ref.stats) {
    const at::Tensor d = dist.stats.at(name).second_moment;
    EXPECT_EQ(dist.stats.at(name).tokens, st.tokens);
    EXPECT_LT((d - st.second_moment).abs().max().item<double>(), 1e-5 * st.second_moment.abs().max().item<double>());
  }
  EXPECT_LT((dist.report.values.targets - ref.report.values.targets).abs().max().item<double>(),
            1e-3 * ref.report.values.targets.abs().max().item<double>());
  for (const std::string& name : {std::string("model.layers.1.mlp.down_proj"), std::string("model.layers.2.mlp.down_proj")}) {
    const sharding::ShardedTensor& w = dist.model->linear_weight(name);
    const at::Tensor full = ref.model->linear_weight(name).local();
    const at::Tensor expect = w.spec().dim < 0 ? full : full.narrow(w.spec().dim, w.spec().offset, w.spec().length);
    const double err = (w.local() - expect).abs().max().item<double>();
    EXPECT_LT(err, 1e-4 * expect.abs().max().item<double>()) << name << " on world rank " << world().rank();
  }
}

}  // namespace
}  // namespace revive::edit
