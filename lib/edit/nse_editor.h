#pragma once
// NSE (Jiang et al., "Neuron-Level Sequential Editing for Large Language Models",
// 2024), the part that is update math.
//
// The method has three parts:
//  (a) weights rewinding for value computation: v* is optimised on the model with
//      the ORIGINAL weights of the edited layers, the residual taken against the
//      current model. That is the value step, not update math: BatchEditor does it
//      when EditPlan::rewind_values is set (`revive edit --editor nse` sets it).
//  (b) neuron selection + neuron-level update: only the FFN neurons (coordinates
//      of the key, i.e. columns of W_out) that the batch activates most are
//      updated. Implemented here: for each key k_j, the neurons sorted by |k_ij|
//      whose cumulative |k| mass first reaches neuron_mass_fraction of sum_i |k_ij|
//      are selected; the batch edits the union S of those sets. The MEMIT closed
//      form restricted to S:
//          X_S = (lambda C_SS + K_S K_S^T)^{-1} K_S,   X_{not S} = 0,   dW = R X^T,
//      so columns of W outside S are untouched.
//  (c) iterative multi-layer editing: repeating the spread/solve over the layers
//      until the residual is small; that loop belongs to the runner (it needs the
//      model) and calls compute() once per layer and round.
// Gap: neuron_mass_fraction's default (0.8) is this library's choice; the
// published code's selection constant could not be checked here.
#include <ATen/core/Tensor.h>

#include <map>
#include <string>

#include "lib/edit/editor.h"

namespace revive::edit {

struct NseOptions {
  double mom2_update_weight = 15000.0;
  double neuron_mass_fraction = 0.8;
};

// The selected neurons S (ascending int64 indices into the key dimension) for
// keys K (d_in x n): union over columns of the smallest top-|k| prefix whose mass
// reaches `fraction` of that column's total |k| mass.
at::Tensor select_neurons(const at::Tensor& keys, double fraction);

class NseEditor : public FactoredEditor {
 public:
  explicit NseEditor(NseOptions opts = {});

  std::string name() const override { return "NSE"; }
  void set_statistics(const std::string& layer, const at::Tensor& second_moment) override;
  bool has_layer(const std::string& layer) const override { return c_.count(layer) != 0; }
  at::Tensor solve_keys(const std::string& layer, const at::Tensor& keys) override;
  void record_keys(const std::string&, const at::Tensor&) override {}  // no memory of past batches

  // Neurons selected by the last solve.
  const at::Tensor& last_selection() const { return last_selection_; }
  const NseOptions& options() const { return opts_; }

 private:
  NseOptions opts_;
  std::map<std::string, at::Tensor> c_;
  at::Tensor last_selection_;
};

}  // namespace revive::edit
