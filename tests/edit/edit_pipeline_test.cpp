// Model-side editing steps on the real stories260K checkpoint (skipped without
// the fixture): keys, block outputs, batched v* and layer statistics, each
// against a direct computation written here.
#include <ATen/ATen.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <filesystem>
#include <limits>
#include <map>

#include "lib/edit/run/context_templates.h"
#include "lib/edit/run/edit_keys.h"
#include "lib/edit/run/edit_prompts.h"
#include "lib/edit/run/layer_statistics.h"
#include "lib/edit/run/value_optimizer.h"
#include "lib/model/batching.h"
#include "lib/model/hooks.h"
#include "lib/model/prompt_tokens.h"
#include "sharding/checkpoint/safetensors.h"
#include "sharding/comm/local_communicator.h"
#include "sharding/errors.h"
#include "tests/edit/stories_edit_fixture.h"
#include "lib/data/story_world.h"
#include "tests/support/fixtures.h"

namespace revive::edit {
namespace {

// stories260K's tokenizer and model, loaded for one test.
struct LoadedStories {
  explicit LoadedStories(const std::string& folder)
      : tok(model::Tokenizer::from_file(folder)), m(model::load_model(folder, tp)) {}
  model::Tokenizer tok;
  sharding::LocalCommunicator tp{"tp"};
  std::unique_ptr<model::Transformer> m;
};

double pipeline_rel(const at::Tensor& a, const at::Tensor& b) {
  return (a.to(at::kDouble) - b.to(at::kDouble)).norm().item<double>() /
         std::max(b.to(at::kDouble).norm().item<double>(), 1e-30);
}

// The input of `module` at one position of one prompt, read by a direct hook.
at::Tensor pipeline_direct_key(model::Transformer& m, const SubjectPrompt& p, int64_t layer, const std::string& module) {
  at::NoGradGuard ng;
  model::Hooks h;
  const size_t i = h.capture_input(layer, module, {{0, p.subject_pos}});
  model::ForwardOptions f;
  f.hooks = &h;
  m.forward(at::tensor(p.ids, at::kLong).unsqueeze(0), f);
  return h.captured(i).full()[0];
}

TEST(EditPipeline, SubjectPromptLocatesTheSubjectsLastToken) {
  REVIVE_REQUIRE_DATA(folder, "stories260K-hf");
  const model::Tokenizer tok = model::Tokenizer::from_file(folder);
  const SubjectPrompt p = encode_subject_prompt(tok, "One day. {}", "{} had a pet", "Lily");
  EXPECT_EQ(p.text, "One day. Lily had a pet");
  EXPECT_EQ(p.ids, tok.encode("One day. Lily had a pet"));
  EXPECT_EQ(p.subject_pos + 1, static_cast<int64_t>(tok.encode("One day. Lily").size()));
  EXPECT_THROW(encode_subject_prompt(tok, "no slot", "{} had", "Lily"), Error);
  EXPECT_THROW(encode_subject_prompt(tok, "{}", "{} and {}", "Lily"), Error);
}

TEST(EditPipeline, KeysAverageWithinThenAcrossTemplateGroups) {
  REVIVE_REQUIRE_DATA(folder, "stories260K-hf");
  LoadedStories s(folder);
  const auto reqs = data::story_world_requests();
  const std::vector<data::EditRequest> few(reqs.begin(), reqs.begin() + 3);
  const ContextTemplates templates = {{"{}"}, {"Once upon a time. {}", "The sun was hot. {}"}};
  const at::Tensor keys = compute_keys(*s.m, s.tok, few, 2, "mlp.down_proj", templates, /*batch_size=*/4);
  ASSERT_EQ(keys.sizes(), (std::vector<int64_t>{172, 3}));
  for (int64_t i = 0; i < 3; ++i) {
    const auto& r = few[static_cast<size_t>(i)];
    const at::Tensor k0 = pipeline_direct_key(*s.m, encode_subject_prompt(s.tok, "{}", r.prompt_template, r.subject), 2, "mlp.down_proj");
    const at::Tensor k1 = pipeline_direct_key(*s.m, encode_subject_prompt(s.tok, templates[1][0], r.prompt_template, r.subject), 2, "mlp.down_proj");
    const at::Tensor k2 = pipeline_direct_key(*s.m, encode_subject_prompt(s.tok, templates[1][1], r.prompt_template, r.subject), 2, "mlp.down_proj");
    const at::Tensor expect = 0.5 * k0 + 0.5 * (0.5 * (k1 + k2));
    EXPECT_LT(pipeline_rel(keys.select(1, i), expect), 1e-5) << "request " << i;
  }
  // Block outputs: the residual stream after block 2 at the subject of the plain prompt.
  const at::Tensor z = block_outputs_at_subject(*s.m, s.tok, few, 2);
  ASSERT_EQ(z.sizes(), (std::vector<int64_t>{64, 3}));
  at::NoGradGuard ng;
  const SubjectPrompt p = encode_subject_prompt(s.tok, few[1]);
  model::Hooks h;
  const size_t i = h.capture_block_output(2, {{0, p.subject_pos}});
  model::ForwardOptions f;
  f.hooks = &h;
  s.m->forward(at::tensor(p.ids, at::kLong).unsqueeze(0), f);
  EXPECT_LT(pipeline_rel(z.select(1, 1), h.block_output(i)[0]), 1e-6);
}

TEST(EditPipeline, ContextTemplatesAreGeneratedDeterministically) {
  REVIVE_REQUIRE_DATA(folder, "stories260K-hf");
  LoadedStories s(folder);
  ContextTemplateOptions o;
  o.prefixes = {"Once", "The"};
  o.per_prefix = 2;
  const ContextTemplates a = make_context_templates(*s.m, s.tok, o);
  const ContextTemplates b = make_context_templates(*s.m, s.tok, o);
  ASSERT_EQ(a.size(), 2u);
  EXPECT_EQ(a[0], std::vector<std::string>{"{}"});
  ASSERT_EQ(a[1].size(), 4u);
  EXPECT_EQ(a, b);
  for (const std::string& t : a[1]) {
    EXPECT_EQ(data::count_slots(t), 1u) << t;
    EXPECT_EQ(t.substr(t.size() - 4), ". {}") << t;
  }
  o.per_prefix = 0;
  EXPECT_EQ(make_context_templates(*s.m, s.tok, o).size(), 1u);
}

TEST(EditPipeline, BatchedValuesEqualOneRequestAtATime) {
  REVIVE_REQUIRE_DATA(folder, "stories260K-hf");
  LoadedStories s(folder);
  const auto reqs = data::story_world_requests();
  const std::vector<data::EditRequest> few(reqs.begin(), reqs.begin() + 3);
  const ContextTemplates templates = {{"{}"}, {"One day. {}"}};
  ValueOptions o;
  o.steps = 12;
  o.early_stop_loss = 0.3;  // some requests stop early: freezing must match a separate loop
  const ValueResult all = compute_values(*s.m, s.tok, few, 2, templates, o);
  ASSERT_EQ(all.targets.sizes(), (std::vector<int64_t>{64, 3}));
  for (int64_t i = 0; i < 3; ++i) {
    const ValueResult one = compute_values(*s.m, s.tok, {few[static_cast<size_t>(i)]}, 2, templates, o);
    EXPECT_LT(pipeline_rel(all.targets.select(1, i), one.targets.select(1, 0)), 1e-4) << "request " << i;
    EXPECT_EQ(all.steps[static_cast<size_t>(i)], one.steps[0]);
    EXPECT_NEAR(all.final_loss[static_cast<size_t>(i)], one.final_loss[0], 1e-4);
  }
  // The optimised values make the new targets much more likely, and respect the clamp.
  ValueOptions one_step;
  one_step.steps = 1;  // evaluates the unedited model only
  const ValueResult start = compute_values(*s.m, s.tok, few, 2, templates, one_step);
  const ValueResult full = compute_values(*s.m, s.tok, few, 2, templates, ValueOptions{});
  for (int64_t i = 0; i < 3; ++i) {
    EXPECT_GT(full.target_prob[static_cast<size_t>(i)], 1.2 * start.target_prob[static_cast<size_t>(i)])
        << few[static_cast<size_t>(i)].target_new;
    const double dn = (full.targets.select(1, i) - full.initial.select(1, i)).norm().item<double>();
    EXPECT_LE(dn, 0.75 * full.initial.select(1, i).norm().item<double>() * (1 + 1e-5));
  }
}

// Writable v* (ValueOptions::protected_output): every delta stays orthogonal to
// the given directions, and the optimisation still moves toward the target.
TEST(EditPipeline, WritableValuesAvoidTheProtectedOutputDirections) {
  REVIVE_REQUIRE_DATA(folder, "stories260K-hf");
  LoadedStories s(folder);
  const auto reqs = data::story_world_requests();
  const std::vector<data::EditRequest> few(reqs.begin(), reqs.begin() + 3);
  const ContextTemplates templates = {{"{}"}};
  ValueOptions o;
  o.steps = 20;
  auto g = at::make_generator<at::CPUGeneratorImpl>(17);
  o.protected_output = std::get<0>(at::linalg_qr(at::randn({64, 8}, g, at::TensorOptions().dtype(at::kFloat))));
  const ValueResult r = compute_values(*s.m, s.tok, few, 2, templates, o);
  const at::Tensor delta = r.targets - r.initial;  // [hidden, n]
  EXPECT_GT(delta.norm().item<double>(), 1e-3);
  EXPECT_LT(at::matmul(o.protected_output.t(), delta).abs().max().item<double>(),
            1e-5 * delta.abs().max().item<double>());
  ValueOptions free = o;
  free.protected_output = at::Tensor();
  const ValueResult f = compute_values(*s.m, s.tok, few, 2, templates, free);
  EXPECT_GT(at::matmul(o.protected_output.t(), f.targets - f.initial).abs().max().item<double>(), 1e-3);
}

TEST(EditPipeline, AHugeValueStepIsClampedToTheBoundNotToZero) {
  // A learning rate of 1e30 overflows a float norm of the delta; the clamp must
  // still scale the delta onto its bound instead of reading inf and zeroing it.
  REVIVE_REQUIRE_DATA(folder, "stories260K-hf");
  LoadedStories s(folder);
  const auto reqs = data::story_world_requests();
  const ContextTemplates templates = {{"{}"}};
  ValueOptions o;
  o.lr = 1e30;
  o.steps = 3;
  const ValueResult r = compute_values(*s.m, s.tok, {reqs[0], reqs[1]}, 2, templates, o);
  for (int64_t i = 0; i < 2; ++i) {
    const double dn = (r.targets.select(1, i) - r.initial.select(1, i)).norm().item<double>();
    const double bound = o.clamp_norm_factor * r.initial.select(1, i).norm().item<double>();
    EXPECT_NEAR(dn / bound, 1.0, 1e-4) << "request " << i;
  }
}

TEST(EditPipeline, ValueLossBeforeTheFirstStepIsTheTargetsNllOfAFullPass) {
  // v* reads the head only at the target positions; at step 0 (delta 0, KL 0)
  // its loss must be the mean over templates of the mean token NLL that a full
  // forward of prompt ++ target gives, on a padded batch of uneven prompts and
  // targets of several tokens, at both fact tokens.
  REVIVE_REQUIRE_DATA(folder, "stories260K-hf");
  LoadedStories s(folder);
  const auto world = data::story_world_requests();
  std::vector<data::EditRequest> reqs(world.begin(), world.begin() + 2);
  reqs[1].target_new = "big red ball in the park";
  const ContextTemplates templates = {{"{}"}, {"One day. {}", "Long ago, near a river. {}"}};
  for (const FactToken ft : {FactToken::kSubjectLast, FactToken::kLast}) {
    ValueOptions o;
    o.steps = 1;
    o.fact_token = ft;
    const ValueResult r = compute_values(*s.m, s.tok, reqs, 2, templates, o);
    for (size_t i = 0; i < reqs.size(); ++i) {
      at::NoGradGuard ng;
      double sum = 0.0;
      int rows = 0;
      for (const auto& group : templates) {
        for (const std::string& context : group) {
          const SubjectPrompt p = encode_subject_prompt(s.tok, context, reqs[i].prompt_template, reqs[i].subject, ft);
          const model::Continuation c = model::tokenize_continuation(s.tok, p.text, reqs[i].target_new);
          std::vector<int64_t> ids = p.ids;
          ids.insert(ids.end(), c.target.begin(), c.target.end());
          const at::Tensor logp =
              at::log_softmax(s.m->forward(at::tensor(ids, at::kLong).unsqueeze(0))[0].to(at::kDouble), -1);
          double nll = 0.0;
          for (size_t j = 0; j < c.target.size(); ++j) {
            nll -= logp[static_cast<int64_t>(p.ids.size() + j) - 1][c.target[j]].item<double>();
          }
          sum += nll / static_cast<double>(c.target.size());
          ++rows;
        }
      }
      const double direct = sum / rows;
      EXPECT_NEAR(r.final_loss[i], direct, 1e-4 * direct) << reqs[i].target_new;
      EXPECT_NEAR(r.target_prob[i], std::exp(-direct), 1e-4) << reqs[i].target_new;
    }
  }
}

TEST(EditPipeline, RequestsSharingASubjectShareOneDelta) {
  REVIVE_REQUIRE_DATA(folder, "stories260K-hf");
  LoadedStories s(folder);
  auto request = [](const std::string& prompt, const std::string& subject, const std::string& target_new) {
    data::EditRequest r;
    r.prompt_template = prompt;
    r.subject = subject;
    r.target_new = target_new;
    r.target_true = "dog";
    return r;
  };
  const data::EditRequest a = request("{} had a pet", "Tom", "cat");
  const data::EditRequest b = request("{}'s favorite color was", "Tom", "blue");
  const data::EditRequest c = request("{} had a pet", "Lily", "bird");
  const ContextTemplates templates = {{"{}"}, {"One day. {}"}};
  ValueOptions o;
  o.steps = 8;
  o.early_stop_loss = 0;
  // "Tom" is the fact token of a and b with the same tokens before it: one key.
  EXPECT_EQ(value_groups(s.tok, {a, b, c}, templates, o), (std::vector<int64_t>{0, 0, 1}));
  ValueOptions at_last = o;
  at_last.fact_token = FactToken::kLast;  // keys at the prompts' last tokens differ
  EXPECT_EQ(value_groups(s.tok, {a, b, c}, templates, at_last), (std::vector<int64_t>{0, 1, 2}));

  const ValueResult abc = compute_values(*s.m, s.tok, {a, b, c}, 2, templates, o);
  const ValueResult ab = compute_values(*s.m, s.tok, {a, b}, 2, templates, o);
  const ValueResult only_a = compute_values(*s.m, s.tok, {a}, 2, templates, o);
  const ValueResult only_c = compute_values(*s.m, s.tok, {c}, 2, templates, o);
  EXPECT_LT(pipeline_rel(abc.targets.select(1, 0), abc.targets.select(1, 1)), 1e-6);
  EXPECT_LT(pipeline_rel(abc.targets.select(1, 0), ab.targets.select(1, 0)), 1e-4);  // groups independent
  EXPECT_LT(pipeline_rel(abc.targets.select(1, 2), only_c.targets.select(1, 0)), 1e-4);
  // The shared delta serves both targets, so it is not a's own.
  EXPECT_GT(pipeline_rel(ab.targets.select(1, 0), only_a.targets.select(1, 0)), 1e-3);
  // Each request reports its own loss and probability under the shared delta.
  EXPECT_NE(ab.target_prob[0], ab.target_prob[1]);
  EXPECT_EQ(ab.steps[0], ab.steps[1]);
}

TEST(EditPipeline, LayerStatisticsEqualDirectSecondMomentAndAreCachedAndResumable) {
  REVIVE_REQUIRE_DATA(folder, "stories260K-hf");
  REVIVE_REQUIRE_DATA(corpus, "text_corpora/tinystories_head_2MiB.txt");
  const model::Tokenizer tok = model::Tokenizer::from_file(folder);
  sharding::LocalCommunicator tp("tp"), dp("dp");
  auto m = model::load_model(folder, tp);
  StatisticsOptions o = story_world_statistics(corpus, 12);
  o.max_length = 40;
  o.batch_size = 5;
  const std::vector<std::string> modules = {"model.layers.1.mlp.down_proj", "model.layers.2.mlp.down_proj"};
  const auto stats = compute_layer_statistics(*m, tok, modules, o, dp);

  // Direct: every token's key, one document at a time.
  const auto docs = data::read_documents(corpus, o.corpus_options);
  ASSERT_EQ(docs.size(), 12u);
  at::Tensor sum = at::zeros({172, 172}, at::kDouble);
  int64_t tokens = 0;
  {
    at::NoGradGuard ng;
    for (const auto& d : docs) {
      std::vector<int64_t> ids = tok.encode(d.text);
      if (ids.size() > 40) ids.resize(40);
      model::Hooks h;
      std::vector<model::TokenPos> at;
      for (size_t p = 0; p < ids.size(); ++p) at.push_back({0, static_cast<int64_t>(p)});
      const size_t i = h.capture_input(2, "mlp.down_proj", at);
      model::ForwardOptions f;
      f.hooks = &h;
      m->forward(at::tensor(ids, at::kLong).unsqueeze(0), f);
      const at::Tensor k = h.captured(i).full().to(at::kDouble);
      sum += k.t().mm(k);
      tokens += static_cast<int64_t>(ids.size());
    }
  }
  const LayerStatistics& s2 = stats.at(modules[1]);
  EXPECT_EQ(s2.tokens, tokens);
  EXPECT_EQ(s2.documents, 12);
  EXPECT_LT(pipeline_rel(s2.second_moment, sum / static_cast<double>(tokens)), 1e-5);

  // Cache: a second call reads the files; resume: an interrupted run continues.
  const std::string cache = revive::testing::temp_dir("stats-cache");
  o.cache_dir = cache;
  o.model_fingerprint = "stories260K";
  const auto first = compute_layer_statistics(*m, tok, modules, o, dp);
  EXPECT_FALSE(first.at(modules[0]).from_cache);
  const auto again = compute_layer_statistics(*m, tok, modules, o, dp);
  EXPECT_TRUE(again.at(modules[0]).from_cache);
  EXPECT_TRUE(at::equal(again.at(modules[1]).second_moment, first.at(modules[1]).second_moment));

  o.model_fingerprint = "other-weights";  // a different key: recomputed, interrupted after 2 batches
  o.checkpoint_every = 1;
  int batches = 0;
  o.progress = [&](int64_t, int64_t) {
    if (++batches == 2) throw std::runtime_error("interrupted");
  };
  EXPECT_THROW(compute_layer_statistics(*m, tok, modules, o, dp), std::runtime_error);
  bool partial = false;
  for (const auto& e : std::filesystem::directory_iterator(cache)) {
    partial = partial || e.path().filename().string().find("partial") != std::string::npos;
  }
  EXPECT_TRUE(partial);
  int resumed_batches = 0;
  o.progress = [&](int64_t, int64_t) { ++resumed_batches; };
  const auto resumed = compute_layer_statistics(*m, tok, modules, o, dp);
  EXPECT_EQ(resumed_batches, 1);  // 12 documents in batches of 5: 2 done before, 1 left
  EXPECT_EQ(resumed.at(modules[1]).tokens, tokens);
  EXPECT_LT(pipeline_rel(resumed.at(modules[1]).second_moment, sum / static_cast<double>(tokens)), 1e-5);

  // A cached statistic that cannot be the module's is refused naming its file.
  const std::string file = resumed.at(modules[0]).cache_file;
  const std::map<std::string, std::string> meta = {{"tokens", "1"}, {"documents", "1"}};
  at::Tensor nan = at::eye(172, at::kFloat);
  nan[3][5] = std::numeric_limits<float>::quiet_NaN();
  for (const at::Tensor& bad : {at::eye(4, at::kFloat), nan}) {
    sharding::write_safetensors(file, {{"second_moment", bad}}, meta);
    try {
      compute_layer_statistics(*m, tok, modules, o, dp);
      ADD_FAILURE() << "a cached " << bad.sizes() << " statistic was used";
    } catch (const InputError& e) {
      EXPECT_NE(std::string(e.what()).find(file), std::string::npos) << e.what();
      EXPECT_EQ(e.field(), "second_moment");
    }
  }
}

}  // namespace
}  // namespace revive::edit
