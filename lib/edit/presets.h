#pragma once
// Published editing defaults per model (DESIGN.md section 4), one row per model:
// MEMIT hparams (Meng et al. 2023, repo hparams/MEMIT/*.json; Llama-3-8B from
// AlphaEdit's hparams), AlphaEdit's null-space threshold and L2 (Fang et al.
// 2025), RECT's k, EMMET's lambda. Rows marked published = false are this
// project's choices (no published numbers exist for that model); `note` says why.
#include <string>
#include <vector>

#include "lib/edit/editors/alphaedit_editor.h"
#include "lib/edit/editors/iterative_editing.h"
#include "lib/edit/editors/emmet_editor.h"
#include "lib/edit/editors/memit_editor.h"
#include "lib/edit/run/value_optimizer.h"
#include "lib/edit/editors/nse_editor.h"
#include "lib/edit/editors/prune_editor.h"
#include "lib/edit/editors/rect_editor.h"
#include "lib/edit/editors/request_clustering.h"

namespace revive::edit {

struct EditPreset {
  std::string name;            // lookup key, e.g. "llama-3-8b"
  std::string rewrite_module;  // edited module, "{}" = layer index (HF names)
  std::vector<int> layers;     // edited layers
  // Value optimisation (v*).
  double v_lr = 0.5;
  int v_num_grad_steps = 25;
  double v_weight_decay = 0.5;
  double clamp_norm_factor = 0.75;
  double kl_factor = 0.0625;
  int v_loss_layer = -1;  // the last layer (num_layers - 1) of the model
  std::string fact_token = "subject_last";  // where keys are read / deltas added (edit_prompts.h)
  // Context templates (context_templates.h): texts the model generates after each
  // of 5 prefixes, per prefix, read with the prompt for keys and v* (MEMIT's and
  // AlphaEdit's code: 1, so "{}" plus 5; 0: the prompt alone).
  int context_templates = 1;
  // Statistics and solves.
  double mom2_update_weight = 15000.0;
  long mom2_n_samples = 100000;
  double nullspace_threshold = 2e-2;  // AlphaEdit
  double alphaedit_l2 = 10.0;         // AlphaEdit
  // RECT: share of the update's entries kept, largest relative change first. 0.4
  // as the AlphaEdit repository's RECT runs it (the code the REVIVE paper's
  // baselines most plausibly come from); the RECT paper's text keeps 0.2
  // (`revive edit --rect-keep 0.2`).
  double rect_keep_fraction = 0.4;
  // PRUNE: restrain once after the last batch (both reference codes) or after
  // every batch (`revive edit --prune-when batch`).
  PruneWhen prune_when = PruneWhen::kAfterLastBatch;
  double emmet_lambda = 0.1;          // EMMET
  // NSE (its hparams/NSE/*.json): neuron selection and the iterative loop.
  double nse_mom2_update_weight = 0;  // 0: mom2_update_weight
  double nse_neuron_threshold = 0.8;
  int nse_max_iterations = 8;
  double nse_alpha = 15.0;
  double nse_upper_bound = 100.0;
  int nse_clusters = 3;  // groups per batch (n_clusters)
  bool published = true;
  std::string note;

  ValueOptions values() const;
  MemitOptions memit() const;
  AlphaEditOptions alphaedit() const;
  RectOptions rect() const;
  PruneOptions prune() const;
  EmmetOptions emmet() const;
  NseOptions nse() const;
  IterativeEditing nse_iterations() const;  // enabled
  RequestClustering nse_clustering() const;
};

// All presets, in a fixed order.
const std::vector<EditPreset>& edit_presets();
// Names of all presets, comma separated (for messages and --help).
std::string edit_preset_names();
// The preset called `name` (case-insensitive; '_' and '-' are equivalent).
// Throws revive::InputError naming the field and listing the known names.
const EditPreset& find_edit_preset(const std::string& name);

}  // namespace revive::edit
