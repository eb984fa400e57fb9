#include "lib/edit/editors/emmet_editor.h"

#include <ATen/ATen.h>

#include "lib/edit/editors/linear_solve.h"
#include "sharding/errors.h"

namespace revive::edit {

EmmetEditor::EmmetEditor(EmmetOptions opts) : opts_(opts) {
  if (!(opts_.mom2_update_weight >= 0.0) || !(opts_.emmet_lambda >= 0.0) || !(opts_.update_norm_lambda >= 0.0)) {
    throw Error("EMMET: mom2_update_weight, emmet_lambda and update_norm_lambda must be >= 0");
  }
}

void EmmetEditor::set_statistics(const std::string& layer, const at::Tensor& second_moment) {
  check_second_moment(name(), layer, second_moment);
  c_[layer] = second_moment;
}

at::Tensor EmmetEditor::solve_keys(const std::string& layer, const at::Tensor& keys) {
  const at::Tensor& c = find_operator(c_, name(), layer);
  check_keys(name(), layer, keys, c.size(0));
  const std::string what = "EMMET solve of layer '" + layer + "'";
  at::Tensor c0 = c.to(at::kDouble) * opts_.mom2_update_weight;
  if (opts_.update_norm_lambda != 0.0) c0.diagonal().add_(opts_.update_norm_lambda);
  const at::Tensor k = keys.to(c.device(), at::kDouble);  // on the operators' device
  const at::Tensor y = solve_symmetric(c0, k, what + " (C0)");  // C0^{-1} K
  at::Tensor d = at::matmul(k.t(), y);                           // K^T C0^{-1} K
  d.diagonal().add_(opts_.emmet_lambda);
  // X = Y D^{-1}  <=>  X^T = D^{-1} Y^T (D symmetric).
  const at::Tensor x = solve_symmetric(d, y.t(), what + " (D)").t();
  const auto out = compute_dtype(keys.scalar_type());
  return x.to(keys.device(), out).contiguous();
}

}  // namespace revive::edit
