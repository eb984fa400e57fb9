#pragma once
// EMMET (Gupta et al., "A Unified Framework for Model Editing", 2024): MEMIT's
// preservation objective with the memorisation turned into equality constraints
// W K = V. With C0 = lambda C + mu I (lambda = mom2_update_weight,
// mu = update_norm_lambda) the closed form is
//
//     dW = (V - W0 K) (K^T C0^{-1} K)^{-1} K^T C0^{-1},
//
// and the published code (emmet_main.py) adds emmet_lambda I to
// D = K^T C0^{-1} K against ill-conditioning and spreads the residual
// V - W0 K over the edited layers exactly like MEMIT. Factored dW = R X^T with
//     Y = C0^{-1} K,   D = K^T Y + emmet_lambda I,   X = Y D^{-1}
// (two symmetric solves in f64, no explicit inverse). With emmet_lambda = 0 the
// constraints hold exactly: dW K = R.
#include <ATen/core/Tensor.h>

#include <map>
#include <string>

#include "lib/edit/editors/editor.h"

namespace revive::edit {

struct EmmetOptions {
  double mom2_update_weight = 15000.0;
  double emmet_lambda = 0.1;        // published default
  double update_norm_lambda = 0.0;  // published default
};

class EmmetEditor : public FactoredEditor {
 public:
  explicit EmmetEditor(EmmetOptions opts = {});

  std::string name() const override { return "EMMET"; }
  void set_statistics(const std::string& layer, const at::Tensor& second_moment) override;
  bool has_layer(const std::string& layer) const override { return c_.count(layer) != 0; }
  at::Tensor solve_keys(const std::string& layer, const at::Tensor& keys) override;
  void record_keys(const std::string&, const at::Tensor&) override {}  // no memory of past batches

  const EmmetOptions& options() const { return opts_; }

 private:
  EmmetOptions opts_;
  std::map<std::string, at::Tensor> c_;
};

}  // namespace revive::edit
