#include "lib/edit/editors/constrained_solve_editor.h"

#include <ATen/ATen.h>

#include "sharding/errors.h"

namespace revive::edit {

ConstrainedSolveEditor::ConstrainedSolveEditor(std::unique_ptr<FactoredEditor> base,
                                               std::map<std::string, at::Tensor> protected_inputs)
    : base_(std::move(base)), v_(std::move(protected_inputs)) {
  REVIVE_CHECK(base_ != nullptr, "constrained solve: no editor to constrain");
  for (const auto& [layer, v] : v_) {
    if (!v.defined() || v.dim() != 2) {
      throw Error("constrained solve: the protected input directions of '" + layer +
                  "' must be a d_in x k matrix");
    }
  }
}

at::Tensor ConstrainedSolveEditor::project(const std::string& layer, const at::Tensor& t) const {
  const at::Tensor& v_stored = find_operator(v_, name(), layer);
  if (t.size(0) != v_stored.size(0)) {
    throw Error(name() + ": layer '" + layer + "' has " + std::to_string(v_stored.size(0)) +
                " protected input rows, the tensor " + std::to_string(t.size(0)));
  }
  const at::Tensor v = v_stored.to(t.device(), at::kDouble), td = t.to(at::kDouble);
  return (td - v.mm(v.t().mm(td))).to(t.scalar_type());
}

void ConstrainedSolveEditor::set_statistics(const std::string& layer, const at::Tensor& second_moment) {
  check_second_moment(name(), layer, second_moment);
  const at::Tensor c = second_moment.to(at::kDouble);
  const at::Tensor pc = project(layer, c);                     // P C
  const at::Tensor pcp = project(layer, pc.t().contiguous());  // P C P (C symmetric)
  const int64_t d = c.size(0);
  const double mean_eig = c.trace().item<double>() / static_cast<double>(d);
  const double s = mean_eig > 0 ? mean_eig : 1.0;
  const at::Tensor v = v_.at(layer).to(c.device(), at::kDouble);
  const at::Tensor projected = at::addmm(pcp, v, v.t(), /*beta=*/1.0, /*alpha=*/s);
  base_->set_statistics(layer, ((projected + projected.t()) * 0.5).to(second_moment.scalar_type()));
}

at::Tensor ConstrainedSolveEditor::solve_keys(const std::string& layer, const at::Tensor& keys) {
  // Projected once more: rounding in the base solve must not leak into span(V_k).
  return project(layer, base_->solve_keys(layer, project(layer, keys)));
}

void ConstrainedSolveEditor::record_keys(const std::string& layer, const at::Tensor& keys) {
  base_->record_keys(layer, project(layer, keys));
}

}  // namespace revive::edit
