#pragma once
// AlphaEdit (Fang et al., "AlphaEdit: Null-Space Constrained Knowledge Editing
// for Language Models", ICLR 2025).
//
// Projector. P = U0 U0^T where U0 holds the eigenvectors of the statistics
// C = E[k k^T] (K0 K0^T up to scale) whose eigenvalue is below
// nullspace_threshold. As in the published code (AlphaEdit_main.get_project:
// svd of the unscaled covariance, indices with S < nullspace_threshold), the
// threshold is absolute, on the unscaled second moment; here the eigen-solve is
// linalg_eigh in f64. dW P annihilates the preserved keys: dW k0 = 0 for every k0
// in the span of C's large eigenvectors.
//
// Update (paper eq. 14; code: solve(P (K K^T + cache) + L2 I, P K R^T)):
//     dW = R K^T P (K_p K_p^T P + K K^T P + L2 I)^{-1}
// Factored dW = R X^T with, since P is symmetric,
//     X = (P (K K^T + K_p K_p^T) + L2 I)^{-1} P K        (LU in f64; not symmetric).
//
// Key cache: K_p K_p^T of every past batch, accumulated as one d_in x d_in matrix
// (fixed memory however many edits), updated by record_keys() after each batch
// with keys recomputed on the edited model, as the published code does.
#include <ATen/core/Tensor.h>

#include <map>
#include <string>

#include "lib/edit/editors/editor.h"
#include "lib/edit/editors/key_cache.h"

namespace revive::edit {

struct AlphaEditOptions {
  double nullspace_threshold = 2e-2;  // published (all models)
  double l2 = 10.0;                   // published L2
};

// P onto the span of the eigenvectors of `second_moment` with eigenvalue
// < threshold, f64. `null_dim` (optional) receives its rank.
at::Tensor null_space_projector(const at::Tensor& second_moment, double threshold, int64_t* null_dim = nullptr);

class AlphaEditEditor : public FactoredEditor {
 public:
  explicit AlphaEditEditor(AlphaEditOptions opts = {});

  std::string name() const override { return "AlphaEdit"; }
  // Builds P (eigen-decomposition) and a zero key cache for the layer. P and the
  // cache are kept in the statistics' dtype (f32 halves the memory of d_ff^2
  // operators); solves run in f64.
  void set_statistics(const std::string& layer, const at::Tensor& second_moment) override;
  bool has_layer(const std::string& layer) const override { return p_.count(layer) != 0; }
  at::Tensor solve_keys(const std::string& layer, const at::Tensor& keys) override;
  // cache += K K^T.
  void record_keys(const std::string& layer, const at::Tensor& keys) override;
  bool records_keys() const override { return true; }
  // "key_cache/<layer>" for every layer; load_state() requires the layers to be
  // registered (set_statistics) and the shapes to match.
  std::map<std::string, at::Tensor> state() const override;
  void load_state(const std::map<std::string, at::Tensor>& state) override;

  const at::Tensor& projector(const std::string& layer) const;
  const at::Tensor& key_cache(const std::string& layer) const;
  int64_t null_dim(const std::string& layer) const;
  const AlphaEditOptions& options() const { return opts_; }

 private:
  AlphaEditOptions opts_;
  std::map<std::string, at::Tensor> p_;
  KeyCache cache_{"AlphaEdit"};
  std::map<std::string, int64_t> null_dim_;
};

}  // namespace revive::edit
