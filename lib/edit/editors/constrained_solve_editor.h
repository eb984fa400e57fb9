#pragma once
// The constrained solve: REVIVE's extension, not the paper's method (issue 22).
//
// The paper filters an editor's update after the fact. In MEMIT's objective
//     ||dW K - R||^2 + lambda tr(dW C dW^T)
// the solve balances the parts of dW inside and outside the protected input
// directions against each other on typical keys; deleting one of them (the
// filter's input side) can leave the other disturbing unedited keys MORE than
// the unfiltered update did. The constrained solve instead minimises the
// editor's own objective over the same set the filter maps into,
//     dW = (I - U_k U_k^T) M (I - V_k V_k^T),
// so its update is never worse than the filtered one on that objective.
//
// How: the objective separates over the output side (the optimum targets the
// residual's unprotected part, which the output-side filter gives exactly), and
// on the input side it is the editor's solve with keys and statistics seen
// through P = I - V_k V_k^T:
//     K' = P K,  C' = P C P + s V_k V_k^T  (s = mean eigenvalue of C),
// and the key memory of editors that keep one (AlphaEdit, NSE) recorded as P K.
// C' acts as P C P on range(P) and as s I on span(V_k), and K' has no V_k part,
// so every solve of the MEMIT family (MEMIT, EMMET, AlphaEdit's projected solve,
// NSE) returns X in range(P): the s V_k V_k^T term only keeps C' invertible
// (MEMIT's Cholesky) and keeps span(V_k) out of AlphaEdit's null space.
//
// So `constrained` = this wrapper (input side) + the REVIVE filter on the output
// side (cmd_edit adds the two-sided filter, whose input side is then a no-op up
// to rounding and guarantees the protection exactly).
#include <map>
#include <memory>
#include <string>

#include "lib/edit/editors/editor.h"

namespace revive::edit {

class ConstrainedSolveEditor : public FactoredEditor {
 public:
  // `protected_inputs`: per layer, the whole V_k (d_in x k, orthonormal columns)
  // of its protected basis. Every layer given statistics must have one.
  ConstrainedSolveEditor(std::unique_ptr<FactoredEditor> base,
                         std::map<std::string, at::Tensor> protected_inputs);

  std::string name() const override { return base_->name() + " (constrained solve)"; }
  void set_statistics(const std::string& layer, const at::Tensor& second_moment) override;
  bool has_layer(const std::string& layer) const override { return base_->has_layer(layer); }
  at::Tensor solve_keys(const std::string& layer, const at::Tensor& keys) override;
  void record_keys(const std::string& layer, const at::Tensor& keys) override;
  bool records_keys() const override { return base_->records_keys(); }
  std::map<std::string, at::Tensor> state() const override { return base_->state(); }
  void load_state(const std::map<std::string, at::Tensor>& s) override { base_->load_state(s); }

  FactoredEditor& base() { return *base_; }

 private:
  // (I - V V^T) t for t's rows in the layer's input space.
  at::Tensor project(const std::string& layer, const at::Tensor& t) const;

  std::unique_ptr<FactoredEditor> base_;
  std::map<std::string, at::Tensor> v_;
};

}  // namespace revive::edit
