#pragma once
// NSE (Jiang et al., "Neuron-Level Sequential Editing for Large Language Models",
// 2024), the part that is update math; reference: the authors' code
// (github.com/jianghoucheng/nse, nse/nse_main.py, and hparams/NSE/*.json).
//
// The method has five parts:
//  (a) weights rewinding for value computation: v* is optimised on the model with
//      the ORIGINAL weights of the edited layers (the published code loads v*
//      computed on the unedited model), the residual taken against the current
//      model. That is the value step, not update math: BatchEditor does it when
//      EditPlan::rewind_values is set (`revive edit --editor nse` sets it).
//  (b) neuron selection + neuron-level update: only the FFN neurons (coordinates
//      of the key, i.e. columns of W_out) that the batch activates most are
//      updated. The batch's scores are sum_j |k_ij|; the neurons sorted by score
//      are selected while their cumulative score stays <= neuron_threshold of
//      the total (at least one), as the published code does. The MEMIT closed
//      form with the key cache, restricted to the selection S:
//          X_S = (lambda C_SS + (K_p K_p^T)_SS + K_S K_S^T)^{-1} K_S,  X_{not S} = 0,
//      dW = R X^T, so columns of W outside S are untouched.
//  (c) the key cache K_p K_p^T of past batches (key_cache.h), as AlphaEdit's.
//  (d) iterative editing: the layers are edited again, for the requests whose
//      output is still between alpha and upper_bound away from v*, up to
//      max_iterations times; that loop needs the model and lives in BatchEditor
//      (EditPlan::iterations).
//  (e) clustering: the batch is split by the overlap of each request's selected
//      neurons (spectral clustering, n_clusters groups) and the groups are edited
//      one after another, each with its own iterative loop (request_clustering.h,
//      EditPlan::clustering); a group's keys join the cache when it is done, so
//      the solves of later groups protect it.
// Difference from the published code: it adds the keys of the requests that are
// done to the cache at every iteration (so some repeatedly, and none of those
// still open at the last); here each request's keys are added once, after its
// group.
#include <ATen/core/Tensor.h>

#include <map>
#include <string>

#include "lib/edit/editors/editor.h"
#include "lib/edit/editors/key_cache.h"

namespace revive::edit {

struct NseOptions {
  double mom2_update_weight = 15000.0;
  double neuron_threshold = 0.8;  // published (GPT-J, GPT2-XL; 1.0 for Llama-3-8B)
};

// The selected neurons S (ascending int64 indices into the key dimension) for
// keys K (d_in x n): the longest prefix of the neurons sorted by sum_j |k_ij|
// whose cumulative score is <= `threshold` of the total, and at least the top
// neuron (none for all-zero keys).
at::Tensor select_neurons(const at::Tensor& keys, double threshold);

class NseEditor : public FactoredEditor {
 public:
  explicit NseEditor(NseOptions opts = {});

  std::string name() const override { return "NSE"; }
  void set_statistics(const std::string& layer, const at::Tensor& second_moment) override;
  bool has_layer(const std::string& layer) const override { return c_.count(layer) != 0; }
  at::Tensor solve_keys(const std::string& layer, const at::Tensor& keys) override;
  // cache += K K^T.
  void record_keys(const std::string& layer, const at::Tensor& keys) override { cache_.record(layer, keys); }
  bool records_keys() const override { return true; }
  std::map<std::string, at::Tensor> state() const override { return cache_.state(); }
  void load_state(const std::map<std::string, at::Tensor>& state) override { cache_.load_state(state); }

  // Neurons selected by the last solve.
  const at::Tensor& last_selection() const { return last_selection_; }
  const NseOptions& options() const { return opts_; }

 private:
  NseOptions opts_;
  std::map<std::string, at::Tensor> c_;
  KeyCache cache_{"NSE"};
  at::Tensor last_selection_;
};

}  // namespace revive::edit
