#pragma once
// SPHERE's soft projector (Liu et al., "Energy-regularized sequential model
// editing on hyperspheres", 2025; PlusLabNLP/SPHERE, project_B_into_soft_dirs),
// the closest published relative of REVIVE and the comparator it must beat:
//
//     dW_safe = dW (I - alpha P P^T),
//
// P the top eigenvectors of Ŵ^T Ŵ / rows, Ŵ the CURRENT weight with every row
// (output neuron) scaled to unit norm, as many as reach a cumulative eigenvalue
// ratio eta. Unlike REVIVE it acts on the input side only, removes a fraction
// alpha of the component instead of all of it, and recomputes its directions
// from the weight as edited so far at every batch (REVIVE's basis is fixed at
// W0). Published defaults: eta (beta_hse) 0.5, alpha 0.5.
//
// The eigenvectors of Ŵ^T Ŵ are Ŵ's right singular vectors and its eigenvalues
// the squared singular values, so P is the energy-mode truncated SVD of Ŵ at
// tau = eta (the reference counts eigenvalues with cumulative ratio <= eta and
// adds one: the same k but where the ratio hits eta exactly). Distributed like
// the REVIVE filter: Ŵ's row norms are one all-reduce over a column split, the
// SVD is the distributed one, and a factored update stays factored (X_safe =
// X - alpha P (P^T X), one k x n all-reduce).
#include <string>

#include "lib/edit/filters/update_filter.h"

namespace revive::edit {

struct SphereOptions {
  double energy_ratio = 0.5;  // eta (the reference's beta_hse), in (0, 1]
  double alpha = 0.5;         // suppression strength, in [0, 1]
};

class SphereFilter : public UpdateFilter {
 public:
  explicit SphereFilter(SphereOptions opts = {});
  std::string name() const override { return "sphere"; }
  WeightUpdate apply(const WeightUpdate& update, const sharding::ShardedTensor& weight) const override;
  const SphereOptions& options() const { return opts_; }
  // Directions suppressed at the last apply() (for reports).
  int64_t last_k() const { return last_k_; }

 private:
  SphereOptions opts_;
  mutable int64_t last_k_ = 0;
};

}  // namespace revive::edit
