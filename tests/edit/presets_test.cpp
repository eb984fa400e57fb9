// Preset lookup: published values, name normalisation, and the error listing
// the known names.
#include "lib/edit/presets.h"

#include <gtest/gtest.h>

#include "sharding/errors.h"

namespace revive::edit {
namespace {

TEST(EditPresets, PublishedMemitAndAlphaEditDefaults) {
  const EditPreset& gpt2 = find_edit_preset("gpt2-xl");
  EXPECT_EQ(gpt2.layers, (std::vector<int>{13, 14, 15, 16, 17}));
  EXPECT_EQ(gpt2.mom2_update_weight, 20000.0);
  EXPECT_EQ(gpt2.v_lr, 0.5);
  const EditPreset& gptj = find_edit_preset("gpt-j-6b");
  EXPECT_EQ(gptj.layers, (std::vector<int>{3, 4, 5, 6, 7, 8}));
  EXPECT_EQ(gptj.mom2_update_weight, 15000.0);
  const EditPreset& llama = find_edit_preset("llama-3-8b");
  EXPECT_EQ(llama.layers, (std::vector<int>{4, 5, 6, 7, 8}));
  EXPECT_EQ(llama.v_lr, 0.1);
  for (const EditPreset& p : edit_presets()) {
    if (p.published) {  // v* as published; the small models' presets tune it (their notes say why)
      EXPECT_EQ(p.clamp_norm_factor, 0.75) << p.name;
      EXPECT_GE(p.v_num_grad_steps, 20) << p.name;
      EXPECT_LE(p.v_num_grad_steps, 25) << p.name;
      EXPECT_EQ(p.fact_token, "subject_last") << p.name;
      EXPECT_EQ(p.context_templates, 1) << p.name;  // MEMIT's "{}" plus 5 generated
    }
    EXPECT_EQ(p.kl_factor, 0.0625) << p.name;
    EXPECT_EQ(p.v_weight_decay, 0.5) << p.name;
    if (p.name != "stories260k") {  // scaled to that model's statistics (its note says why)
      EXPECT_EQ(p.alphaedit().nullspace_threshold, 2e-2) << p.name;
      EXPECT_EQ(p.alphaedit().l2, 10.0) << p.name;
    }
    EXPECT_EQ(p.rect().keep_fraction, 0.4) << p.name;  // the AlphaEdit repository's RECT
    EXPECT_EQ(p.prune().when, PruneWhen::kAfterLastBatch) << p.name;  // both reference codes
    EXPECT_EQ(p.memit().mom2_update_weight, p.mom2_update_weight) << p.name;
    EXPECT_EQ(p.prune().memit.mom2_update_weight, p.mom2_update_weight) << p.name;
    EXPECT_EQ(p.emmet().mom2_update_weight, p.mom2_update_weight) << p.name;
    EXPECT_EQ(p.nse().mom2_update_weight, p.nse_mom2_update_weight > 0 ? p.nse_mom2_update_weight : p.mom2_update_weight)
        << p.name;
    EXPECT_TRUE(p.nse_iterations().enabled) << p.name;
    EXPECT_TRUE(p.published || !p.note.empty()) << p.name << ": unpublished presets must say why";
  }
}

// NSE's published hparams (hparams/NSE/*.json of its code; Llama-3-8B's from
// AlphaEdit's code).
TEST(EditPresets, PublishedNseDefaults) {
  struct Row {
    const char* name;
    double mom2, neuron_threshold, alpha, upper_bound;
    int64_t max_iterations, clusters;
  };
  // Llama-3-8B's are AlphaEdit's hparams/NSE, which have no clustering.
  for (const Row& r : {Row{"gpt2-xl", 10000, 0.8, 35, 150, 8, 3}, Row{"gpt-j-6b", 15000, 0.8, 15, 100, 8, 3},
                       Row{"llama-3-8b", 15000, 1.0, 2.5, 50, 3, 1}}) {
    const EditPreset& p = find_edit_preset(r.name);
    EXPECT_EQ(p.nse().mom2_update_weight, r.mom2) << r.name;
    EXPECT_EQ(p.nse().neuron_threshold, r.neuron_threshold) << r.name;
    const IterativeEditing it = p.nse_iterations();
    EXPECT_EQ(it.alpha, r.alpha) << r.name;
    EXPECT_EQ(it.upper_bound, r.upper_bound) << r.name;
    EXPECT_EQ(it.max_iterations, r.max_iterations) << r.name;
    EXPECT_EQ(p.nse_clustering().clusters, r.clusters) << r.name;
    EXPECT_EQ(p.nse_clustering().neuron_threshold, r.neuron_threshold) << r.name;
  }
}

TEST(EditPresets, Stories260kHasItsOwnStatisticsWeight) {
  const EditPreset& s = find_edit_preset("stories260K");
  EXPECT_EQ(s.layers, (std::vector<int>{1, 2}));
  EXPECT_EQ(s.mom2_update_weight, 20.0);
  EXPECT_FALSE(s.published);
  EXPECT_FALSE(find_edit_preset("llama-3-70b").published);
  EXPECT_EQ(s.values().steps, 300);
  EXPECT_EQ(s.values().lr, 0.1);
  EXPECT_EQ(s.values().clamp_norm_factor, 2.0);
  EXPECT_EQ(s.values().fact_token, FactToken::kLast);
  // AlphaEdit scaled to this model's statistics (presets.cpp says why).
  EXPECT_EQ(s.alphaedit().nullspace_threshold, 0.1);
  EXPECT_EQ(s.alphaedit().l2, 0.5);
}

TEST(EditPresets, ToyEditsAtThePromptsLastToken) {
  const EditPreset& t = find_edit_preset("toy");
  EXPECT_EQ(t.layers, (std::vector<int>{1, 2}));
  EXPECT_EQ(t.values().fact_token, FactToken::kLast);
  EXPECT_EQ(t.values().lr, 4.0);
  EXPECT_FALSE(t.published);
  EXPECT_THROW(parse_fact_token("first"), InputError);
  for (FactToken f : {FactToken::kSubjectLast, FactToken::kLast}) EXPECT_EQ(parse_fact_token(fact_token_name(f)), f);
}

TEST(EditPresets, LookupIgnoresCaseAndSeparators) {
  EXPECT_EQ(&find_edit_preset("Llama_3_8B"), &find_edit_preset("llama-3-8b"));
  EXPECT_EQ(&find_edit_preset("GPT2-XL"), &find_edit_preset("gpt2-xl"));
}

TEST(EditPresets, UnknownNameListsTheKnownOnes) {
  try {
    find_edit_preset("llama-4");
    FAIL();
  } catch (const InputError& e) {
    const std::string msg = e.what();
    EXPECT_EQ(e.field(), "preset");
    for (const EditPreset& p : edit_presets()) EXPECT_NE(msg.find(p.name), std::string::npos) << msg;
    EXPECT_NE(msg.find("llama-4"), std::string::npos) << msg;
  }
}

}  // namespace
}  // namespace revive::edit
