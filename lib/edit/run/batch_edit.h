#pragma once
// One batch of edits applied to a live (possibly tensor-parallel) model, as in
// MEMIT's execute_memit / AlphaEdit's main loop:
//   1. v*: target values at the last edited layer's output (value_optimizer.h),
//      requests split across dp ranks and gathered (keys and block outputs too);
//   2. for each edited layer l_i in order: keys on the model as edited so far,
//      the residual still missing at the last layer spread over the layers left
//      (spread_residual), the editor's update (distributed_solve.h under tp), the
//      layer's filter pipeline (REVIVE, RECT mask), then the write;
//   3. editors with memory are told the batch's keys, recomputed on the edited
//      model.
// Atomic per batch: the edited weights are copied first, and any failure
// (a NaN/Inf update, a failed solve) restores every layer bit-identically
// before the error propagates.
#include <ATen/core/Tensor.h>

#include <cmath>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "lib/data/edit_request.h"
#include "lib/edit/run/context_templates.h"
#include "lib/edit/run/edit_diagnostics.h"
#include "lib/edit/editors/editor.h"
#include "lib/edit/editors/iterative_editing.h"
#include "lib/edit/editors/request_clustering.h"
#include "lib/edit/filters/update_filter.h"
#include "lib/edit/run/value_optimizer.h"
#include "lib/model/model_fwd.h"

namespace revive::sharding {
class Communicator;
class ShardedTensor;
}

namespace revive::edit {

struct EditPlan {
  std::vector<int64_t> layers;            // edited blocks, strictly ascending
  std::string module = "mlp.down_proj";   // block-relative module (GPT-2: "mlp.c_proj")
  ContextTemplates templates = {{"{}"}};
  ValueOptions values;
  int64_t forward_batch = 64;             // sequences per forward pass for keys
  // NSE's weights rewinding: v* is optimised on the model with the edited layers'
  // ORIGINAL weights, so later batches' targets do not inherit the drift of earlier
  // edits; the residual is still taken against the current model.
  bool rewind_values = false;
  IterativeEditing iterations;
  // NSE's clustering: the batch is split into groups of requests that use the
  // same neurons, edited one after another (each with its own iterative loop).
  RequestClustering clustering;
};

struct LayerEditReport {
  std::string layer;
  double residual_norm = 0;       // ||R||_F of this layer's share
  double update_norm = 0;         // ||dW||_F before filters
  double filtered_norm = 0;       // ||dW||_F as written
  // Diagnostics (edit_diagnostics.h), before the filters and as written; NaN
  // where not measured (disturbance needs the layer's statistics, the
  // unprotected share its protected basis: BatchEditor::set_diagnostics).
  double achieved = NAN, achieved_filtered = NAN;
  double disturbance = NAN, disturbance_filtered = NAN;
  double residual_unprotected = NAN;
  double seconds_keys = 0, seconds_solve = 0, seconds_filter = 0, seconds_write = 0, seconds_diagnostics = 0;
};

// The layer's diagnostics by name ("achieved", "disturbance_filtered", ...), the
// ones measured only (NaN left out): the one list metrics records and benches use.
std::vector<std::pair<std::string, double>> named_diagnostics(const LayerEditReport& report);

struct BatchReport {
  int64_t requests = 0;
  ValueResult values;             // gathered over dp (targets/initial [hidden, n])
  ValueDiagnostics value_diagnostics;
  std::vector<LayerEditReport> layers;  // every layer of every pass, in order
  int64_t passes = 0;             // passes over the layers (1 unless iterative)
  // Iterative editing: requests edited in each pass, and those left outside
  // (alpha, upper_bound) at the end, i.e. done or given up.
  std::vector<int64_t> pass_requests;
  int64_t converged = 0, given_up = 0;
  std::vector<int64_t> cluster_sizes;  // requests of each group, in edit order
  double seconds_values = 0, seconds_record = 0, seconds_total = 0;
  // The batch's efficacy on the model the edit left (target_scores.h), scored by
  // the finiteness check, and that check's time (edited weights and scoring).
  double efficacy = 0, seconds_efficacy = 0;
  // The first edited layer's keys, computed once per batch (layers[].seconds_keys
  // hold the other layers' keys and every layer's outputs).
  double seconds_first_keys = 0;
};

class BatchEditor {
 public:
  // `dp` splits the value optimisation (nullptr: no data parallelism). Every
  // reference must outlive the BatchEditor.
  BatchEditor(model::Transformer& model, const model::Tokenizer& tokenizer, Editor& editor, EditPlan plan,
              sharding::Communicator* dp = nullptr);

  // HF names of the edited weights, in plan order ("model.layers.1.mlp.down_proj").
  const std::vector<std::string>& layer_names() const { return names_; }
  const EditPlan& plan() const { return plan_; }
  model::Transformer& model() const { return model_; }
  const model::Tokenizer& tokenizer() const { return tokenizer_; }
  Editor& editor() const { return editor_; }
  sharding::Communicator* dp() const { return dp_; }

  // Filters applied to `layer`'s updates (default: none).
  void set_filters(const std::string& layer, FilterPipeline filters);
  // What the diagnostics of `layer` measure against: its statistics C = E[k k^T]
  // (d_in x d_in, for the disturbance) and the whole U_k of its protected basis
  // (d_out x k, for the unprotected share of the residual); either may be
  // undefined. Collective over the layer's tp group (the original weight's output
  // energy under C is measured once here): every rank calls it for every layer in
  // the same order.
  void set_diagnostics(const std::string& layer, const at::Tensor& second_moment, const at::Tensor& protected_u);
  // Unedited weight shards (needed by RECT and PRUNE); copied at construction.
  const at::Tensor& original_weight(const std::string& layer) const;

  // Collective over the model's tp group and dp. Throws (with every edited weight
  // and the editor's key memory restored) on any failure, also when the update
  // was finite but left a weight or the model's outputs on the batch NaN/Inf.
  BatchReport apply(const std::vector<data::EditRequest>& batch);

  // The editor's step after the run's last batch (Editor::finish: PRUNE's
  // restraint) written to every edited layer, unfiltered: it reshapes the
  // accumulated update, whose batches were filtered as they were written. One
  // report per layer (update_norm, seconds_solve and seconds_write); empty when
  // the editor has no such step. Collective over the model's tp group; on any
  // failure every edited weight is restored before the error propagates.
  std::vector<LayerEditReport> finish_run();

 private:
  // `edit` with the current and original weight of edited layer `name` as a
  // dense editor needs them: whole on every rank of a split weight's group
  // (gathered), else the local (whole) weight.
  void attach_weights(const std::string& name, const sharding::ShardedTensor& w, LayerEdit& edit) const;

  // Throws when an edited weight holds NaN/Inf, or the edited model's NLL of a
  // request's target_new is not finite (collective over tp; every dp rank
  // agrees). Returns the batch's efficacy, from the same scores.
  double check_edited_model(const std::vector<data::EditRequest>& batch) const;
  // Whether the editor's dense update of split weight `w` is computed whole
  // (on the gathered W) on every rank of its group.
  bool dense_on_shards(const sharding::ShardedTensor& w) const;
  // Keys [d_in, n] of edited layer `position` (plan order), split over dp.
  at::Tensor batch_keys(const std::vector<data::EditRequest>& batch, int64_t position) const;
  // Outputs [hidden, n] of the last edited layer at each request's fact token.
  at::Tensor batch_outputs(const std::vector<data::EditRequest>& batch, at::ScalarType dtype) const;
  // The requests `members` of `batch` edited toward their columns of zs: one pass,
  // or the iterative loop when the plan asks for it. `first_keys`: the members'
  // keys of the first edited layer (computed once per batch, see apply()).
  void edit_group(const std::vector<data::EditRequest>& batch, const std::vector<int64_t>& members,
                  const at::Tensor& zs, BatchReport& report, const at::Tensor& first_keys);
  // One pass over the edited layers toward targets zs [hidden, n] of `batch`,
  // `first_keys` the first edited layer's keys of these requests.
  void edit_layers(const std::vector<data::EditRequest>& batch, const at::Tensor& zs, BatchReport& report,
                   const at::Tensor& first_keys);

  model::Transformer& model_;
  const model::Tokenizer& tokenizer_;
  Editor& editor_;
  EditPlan plan_;
  sharding::Communicator* dp_;
  std::vector<std::string> names_;
  // Records `lr`'s diagnostics of the update before (`update`) and after (`safe`)
  // the filters.
  void measure_layer(const std::string& name, const sharding::ShardedTensor& w, const at::Tensor& keys,
                     const at::Tensor& resid, const WeightUpdate& update, const WeightUpdate& safe,
                     LayerEditReport& lr) const;

  struct LayerDiagnosticInputs {
    at::Tensor second_moment, protected_u;
    double original_energy = 0;  // tr(W0 C W0^T)
  };
  std::map<std::string, FilterPipeline> filters_;
  std::map<std::string, LayerDiagnosticInputs> diagnostics_;
  std::map<std::string, at::Tensor> originals_;
  // Whole unedited weights, kept only for dense editors on split weights.
  std::map<std::string, at::Tensor> whole_originals_;
};

// ||dW||_F of a (local) update, without materialising a factored one; summed
// over `group` when given (the shards of a split weight).
double update_frobenius(const WeightUpdate& update, sharding::Communicator* group = nullptr);

}  // namespace revive::edit
