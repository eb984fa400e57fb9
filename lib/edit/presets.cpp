#include "lib/edit/presets.h"

#include <algorithm>
#include <cctype>

#include "sharding/errors.h"

namespace revive::edit {
namespace {

std::vector<EditPreset> make_presets() {
  std::vector<EditPreset> v;
  {
    EditPreset p;  // MEMIT hparams/MEMIT/gpt2-xl.json
    p.name = "gpt2-xl";
    p.rewrite_module = "transformer.h.{}.mlp.c_proj";
    p.layers = {13, 14, 15, 16, 17};
    p.v_lr = 0.5;
    p.v_num_grad_steps = 20;
    p.mom2_update_weight = 20000.0;
    p.nse_mom2_update_weight = 10000.0;  // NSE's hparams/NSE/gpt2-xl.json
    p.nse_alpha = 35.0;
    p.nse_upper_bound = 150.0;
    v.push_back(p);
  }
  {
    EditPreset p;  // MEMIT hparams/MEMIT/EleutherAI_gpt-j-6B.json
    p.name = "gpt-j-6b";
    p.rewrite_module = "transformer.h.{}.mlp.fc_out";
    p.layers = {3, 4, 5, 6, 7, 8};
    p.v_lr = 0.5;
    p.v_num_grad_steps = 25;
    p.mom2_update_weight = 15000.0;
    v.push_back(p);
  }
  {
    EditPreset p;  // AlphaEdit hparams/AlphaEdit/Llama3-8B.json (MEMIT settings)
    p.name = "llama-3-8b";
    p.rewrite_module = "model.layers.{}.mlp.down_proj";
    p.layers = {4, 5, 6, 7, 8};
    p.v_lr = 0.1;
    p.v_num_grad_steps = 25;
    p.mom2_update_weight = 15000.0;
    // NSE: AlphaEdit's hparams/NSE/Llama3-8B.json (no clustering there; with
    // threshold 1.0 every request selects every neuron anyway)
    p.nse_neuron_threshold = 1.0;
    p.nse_clusters = 1;
    p.nse_max_iterations = 3;
    p.nse_alpha = 2.5;
    p.nse_upper_bound = 50.0;
    v.push_back(p);
  }
  {
    EditPreset p;
    p.name = "llama-3-70b";
    p.rewrite_module = "model.layers.{}.mlp.down_proj";
    p.layers = {10, 11, 12, 13, 14};
    p.v_lr = 0.1;
    p.v_num_grad_steps = 25;
    p.mom2_update_weight = 15000.0;
    p.nse_neuron_threshold = 1.0;
    p.nse_clusters = 1;
    p.nse_max_iterations = 3;
    p.nse_alpha = 2.5;
    p.nse_upper_bound = 50.0;
    p.published = false;
    p.note = "no published editing hparams for Llama-3-70B: Llama-3-8B's values, with the 5 edited layers moved to "
             "the same relative depth (layers 4-8 of 32 -> 10-14 of 80)";
    v.push_back(p);
  }
  {
    EditPreset p;
    p.name = "stories260k";
    p.rewrite_module = "model.layers.{}.mlp.down_proj";
    p.layers = {1, 2};
    p.fact_token = "last";
    // v*: Adam moves each coordinate of the delta by about lr per step, whatever
    // the gradient's scale, and the published 0.5 is half of this model's
    // per-coordinate hidden state (||z0|| ~7 over 64 dims): v* overshot in
    // directions its loss does not need. lr 0.1 with 300 steps, over 8 request
    // orders (bench_story_world --orders 8, one BLAS thread): AlphaEdit meets
    // issue 5's bar on 3 (was 0), final efficacy 0.72-0.98 (was 0.44-0.82);
    // MEMIT on 2 (was 3), final 0.68-0.92 (was 0.60-0.88). lr 0.05 / 600 steps:
    // AlphaEdit 2, MEMIT 3, at twice the v* time.
    p.v_lr = 0.1;
    p.v_num_grad_steps = 300;
    p.clamp_norm_factor = 2.0;
    p.mom2_update_weight = 20.0;
    p.mom2_n_samples = 20000;
    p.nullspace_threshold = 0.1;
    p.alphaedit_l2 = 0.5;
    // NSE: alpha ~0.4 ||z0|| (z0 ~7.1 here; ||v* - z0|| <= 2 ||z0||). Measured
    // with v* lr 0.5 / 150 steps, more passes lowered efficacy on the story
    // world (one pass 0.80 per batch / 0.78 final; 7 passes to alpha 2: 0.66 /
    // 0.68; 3 passes to alpha 3: 0.72 / 0.66), so one pass, skipping requests
    // already within alpha. The published 3 clusters per batch, measured no
    // different from none over 4 request orders (lowest batch / final: 0.7/0.76,
    // 0.8/0.70, 0.8/0.62, 0.6/0.74 vs 0.7/0.74, 0.7/0.70, 0.8/0.62, 0.7/0.68).
    p.nse_max_iterations = 2;
    p.nse_alpha = 3.0;
    p.nse_upper_bound = 20.0;
    // MEMIT's context templates (the reference code's default, 1 per prefix): the
    // measurement does not argue against them (mixed): generated story worlds,
    // seeds 1 and 2, 100 edits in batches of 10, MEMIT:
    // final efficacy 0.74 / 0.65 with them vs 0.52 / 0.68 without, perplexity
    // +16.7% / +28.8% vs +13.4% / +27.2%, at 1.4-2.6x the editing time.
    p.context_templates = 1;
    p.published = false;
    p.note = "5-layer, dim-64 model: it recalls a story fact at the predicted position, not at the subject 3 tokens "
             "earlier, so keys and deltas sit at the prompt's last token (ROME's 'last'; at the subject the final "
             "efficacy of 50 story-world edits was 0.30-0.62). mom2_update_weight 20: chosen on 50 "
             "story-world requests in batches of 10 over 4 request orders with v* lr 0.5 / 150 steps (lowest batch "
             "efficacy / final efficacy per order: 0.9/0.96, 0.9/0.86, 0.9/0.72, 0.9/0.76; lambda 15: 0.9/0.90, "
             "0.9/0.88, 0.8/0.68, 0.9/0.74; lambda 30: 0.7/0.90, 0.8/0.84, 0.9/0.80, 0.9/0.70). v* lr 0.1 / 300 "
             "steps, not the published 0.5: Adam's step is ~lr per coordinate, half of this model's hidden state; "
             "over 8 orders AlphaEdit's final efficacy rose from 0.44-0.82 to 0.72-0.98 (bench_story_world). "
             "AlphaEdit: the statistics have no near-null directions here (eigenvalues 0.009-1.26), so the "
             "published absolute threshold 2e-2 keeps 40 / 20 of 172 directions and the published L2 10 (about the "
             "keys' squared norm) leaves no update at all; threshold 0.1 (144 / 132 directions) and L2 0.5 gave "
             "0.8/0.74, 0.9/0.82, 0.8/0.80, 0.7/0.76 (v* lr 0.5)";
    v.push_back(p);
  }
  {
    EditPreset p;
    p.name = "toy";
    p.rewrite_module = "model.layers.{}.mlp.down_proj";
    p.layers = {1, 2};
    p.fact_token = "last";
    p.v_lr = 4.0;
    p.v_num_grad_steps = 60;
    p.mom2_update_weight = 100.0;
    p.mom2_n_samples = 10000;
    // NSE: one pass over every request (alpha 0); the toy model's hidden-state
    // scale, which the published alpha is in, was not measured; the batch as one
    // group.
    p.nse_max_iterations = 2;
    p.nse_alpha = 0.0;
    p.nse_upper_bound = 1e30;
    p.nse_clusters = 1;
    // The prompt alone: MEMIT's generated context templates (1 per prefix) made
    // every figure worse here (bench/fidelity.sh --worlds toy --seeds 1,2, 500
    // edits in batches of 50: final efficacy 0.63 vs 0.68, perplexity x1.67 vs
    // x1.10), and cost 6x the editing time.
    p.context_templates = 0;
    p.published = false;
    p.note = "the demo's 4-layer toy model (revive toy-model --layers 4) recalls a fact at the predicted "
             "position, not at the subject, so keys and deltas sit at the prompt's last token (ROME's 'last'); "
             "the model is over-confident in its memorised facts, so v* needs lr 4 and 60 steps to move "
             "(measured on 200 edits: efficacy 0.55 at lr 4 vs 0.13 at lr 2, 0.03 at the published 0.5)";
    v.push_back(p);
  }
  return v;
}

std::string normalise(std::string s) {
  for (char& c : s) c = c == '_' ? '-' : static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

}  // namespace

ValueOptions EditPreset::values() const {
  ValueOptions o;
  o.lr = v_lr;
  o.steps = v_num_grad_steps;
  o.weight_decay = v_weight_decay;
  o.clamp_norm_factor = clamp_norm_factor;
  o.kl_factor = kl_factor;
  o.fact_token = parse_fact_token(fact_token);
  return o;
}

MemitOptions EditPreset::memit() const {
  MemitOptions o;
  o.mom2_update_weight = mom2_update_weight;
  return o;
}

AlphaEditOptions EditPreset::alphaedit() const {
  AlphaEditOptions o;
  o.nullspace_threshold = nullspace_threshold;
  o.l2 = alphaedit_l2;
  return o;
}

RectOptions EditPreset::rect() const {
  RectOptions o;
  o.memit = memit();
  o.keep_fraction = rect_keep_fraction;
  return o;
}

PruneOptions EditPreset::prune() const {
  PruneOptions o;
  o.memit = memit();
  o.when = prune_when;
  return o;
}

EmmetOptions EditPreset::emmet() const {
  EmmetOptions o;
  o.mom2_update_weight = mom2_update_weight;
  o.emmet_lambda = emmet_lambda;
  return o;
}

NseOptions EditPreset::nse() const {
  NseOptions o;
  o.mom2_update_weight = nse_mom2_update_weight > 0 ? nse_mom2_update_weight : mom2_update_weight;
  o.neuron_threshold = nse_neuron_threshold;
  return o;
}

RequestClustering EditPreset::nse_clustering() const {
  RequestClustering c;
  c.clusters = nse_clusters;
  c.neuron_threshold = nse_neuron_threshold;
  return c;
}

IterativeEditing EditPreset::nse_iterations() const {
  IterativeEditing it;
  it.enabled = true;
  it.max_iterations = nse_max_iterations;
  it.alpha = nse_alpha;
  it.upper_bound = nse_upper_bound;
  return it;
}

const std::vector<EditPreset>& edit_presets() {
  static const std::vector<EditPreset> presets = make_presets();
  return presets;
}

std::string edit_preset_names() {
  std::string names;
  for (const EditPreset& p : edit_presets()) names += (names.empty() ? "" : ", ") + p.name;
  return names;
}

const EditPreset& find_edit_preset(const std::string& name) {
  const std::string key = normalise(name);
  for (const EditPreset& p : edit_presets()) {
    if (p.name == key) return p;
  }
  throw InputError("edit presets", "preset", "unknown preset '" + name + "'; known presets: " + edit_preset_names());
}

}  // namespace revive::edit
