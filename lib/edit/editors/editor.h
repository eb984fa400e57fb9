#pragma once
// Editor: the common interface of the editing algorithms, as tensor math only
// (no model). The caller (the sequential runner) computes, for each edited layer
// l_1..l_L in turn:
//   K  the keys: input of the edited module at each request's subject token
//      (d_in x n), on the model as edited so far in this batch;
//   R  this layer's share of the residual: (v* - current output) / (layers left),
//      see spread_residual();
// and hands them over as a LayerEdit. The editor returns the layer's WeightUpdate.
// Statistics C = E[k k^T] of each layer's keys over a corpus are registered once
// per layer with set_statistics(); editors that remember past batches (AlphaEdit)
// are told the keys of each written batch with record_keys().
// Devices: an editor keeps its operators (statistics, projector, key cache) on
// the device of the statistics it was given; keys and residuals may come from a
// model elsewhere (statistics on the host, model on a GPU). The solves then run
// on the operators' device and the update comes back on the keys' device (RECT's
// mask and PRUNE's restraint run beside the weight).
#include <ATen/core/Tensor.h>

#include <map>
#include <memory>
#include <string>

#include "lib/edit/weight_update.h"

namespace revive::edit {

struct LayerEdit {
  std::string layer;           // weight name; also the key of per-layer state
  at::Tensor keys;             // K: d_in x n
  at::Tensor residual;         // R: d_out x n (this layer's share)
  at::Tensor weight;           // current W, d_out x d_in (needed by RECT, PRUNE)
  at::Tensor original_weight;  // unedited W0, d_out x d_in (needed by PRUNE)
};

class Editor {
 public:
  virtual ~Editor() = default;
  virtual std::string name() const = 0;

  // C = E[k k^T] (d_in x d_in, symmetric PSD) of `layer`'s keys over the
  // statistics corpus, unscaled; each editor scales it by its own options.
  virtual void set_statistics(const std::string& layer, const at::Tensor& second_moment) = 0;
  virtual bool has_layer(const std::string& layer) const = 0;

  virtual WeightUpdate compute(const LayerEdit& edit) = 0;

  // A step over each edited layer once the run's last batch is written (PRUNE's
  // restraint, applied once as its reference codes do): finish() gets the
  // current and the original weight (keys and residual empty) and returns the
  // update to write. Editors without such a step (all others) have finishes()
  // false and are never asked.
  virtual bool finishes() const { return false; }
  virtual WeightUpdate finish(const LayerEdit& edit);

  // After a batch is written: the batch's keys of `layer` (recomputed on the
  // edited model, as AlphaEdit's code does). Editors with no memory of past
  // batches (MEMIT, EMMET, RECT, PRUNE, NSE) do nothing with them.
  virtual void record_keys(const std::string& layer, const at::Tensor& keys) = 0;
  // Whether record_keys() is used (the runner skips recomputing keys otherwise).
  virtual bool records_keys() const { return false; }

  // Memory carried from batch to batch (AlphaEdit's key cache), for checkpoints:
  // named tensors that load_state() restores exactly. Empty for editors without.
  virtual std::map<std::string, at::Tensor> state() const { return {}; }
  virtual void load_state(const std::map<std::string, at::Tensor>& /*state*/) {}
};

// Editors whose update is low-rank, dW = R X^T, with X depending only on the keys
// and the layer's operators. That split is what the distributed solve uses: the
// rank owning the layer's operators computes X and broadcasts it
// (distributed_solve.h).
class FactoredEditor : public Editor {
 public:
  // X (d_in x n) for keys K (d_in x n); f64 solves, returned in K's dtype.
  virtual at::Tensor solve_keys(const std::string& layer, const at::Tensor& keys) = 0;
  // WeightUpdate::factored(layer, R, solve_keys(layer, K)).
  WeightUpdate compute(const LayerEdit& edit) override;
};

// Editors that transform another editor's update (RECT's mask, PRUNE's
// restraint): statistics, key memory and state all belong to the base editor;
// only compute() differs.
class WrappingEditor : public Editor {
 public:
  explicit WrappingEditor(std::unique_ptr<Editor> base);

  void set_statistics(const std::string& layer, const at::Tensor& second_moment) override {
    base_->set_statistics(layer, second_moment);
  }
  bool has_layer(const std::string& layer) const override { return base_->has_layer(layer); }
  void record_keys(const std::string& layer, const at::Tensor& keys) override { base_->record_keys(layer, keys); }
  bool records_keys() const override { return base_->records_keys(); }
  bool finishes() const override { return base_->finishes(); }
  WeightUpdate finish(const LayerEdit& edit) override { return base_->finish(edit); }
  std::map<std::string, at::Tensor> state() const override { return base_->state(); }
  void load_state(const std::map<std::string, at::Tensor>& s) override { base_->load_state(s); }

 protected:
  Editor& base() { return *base_; }

 private:
  std::unique_ptr<Editor> base_;
};

// MEMIT's residual spreading (memit_main.py: resid = targets / (len(layers) - i)):
// the residual still missing at the last edited layer, divided over the layers
// not yet edited, `position` = 0 for the first edited layer. The caller recomputes
// `remaining_residual` on the model after the earlier layers of the batch.
at::Tensor spread_residual(const at::Tensor& remaining_residual, int64_t position, int64_t num_layers);

// The dtype editing math runs in for data of dtype t: f64 stays f64, anything
// else (f32, bf16, f16) is computed in f32.
inline at::ScalarType compute_dtype(at::ScalarType t) { return t == at::kDouble ? at::kDouble : at::kFloat; }

// Shared checks and look-ups of the editors (messages name editor and layer).
void check_second_moment(const std::string& editor, const std::string& layer, const at::Tensor& c);
void check_keys(const std::string& editor, const std::string& layer, const at::Tensor& keys, int64_t d_in);
void check_layer_edit(const std::string& editor, const LayerEdit& edit, int64_t d_in);
const at::Tensor& find_operator(const std::map<std::string, at::Tensor>& table, const std::string& editor,
                                const std::string& layer);

}  // namespace revive::edit
