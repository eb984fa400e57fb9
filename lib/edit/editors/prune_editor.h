#pragma once
// PRUNE (Ma et al., "Perturbation-Restrained Sequential Model Editing", 2024):
// keeps the condition number of the edited matrix bounded by restraining the
// large singular values of the ACCUMULATED update D = W_edited - W0 (all batches
// so far, this one included). With D = U diag(s) V^T and sigma0 the largest
// singular value of the original W0, each s_i >= sigma0 is replaced by
//
//     F(s_i) = log_a(s_i) - log_a(sigma0) + sigma0
//
// (paper: F with log base alpha; published code: func_log (natural log) and
// func_logn(n) for bases 1.2, 1.5, 2), the others are kept, and the weight
// becomes W0 + U diag(F(s)) V^T. F is continuous at sigma0 and grows only
// logarithmically above it.
//
// As an editor: the base editor's (MEMIT's) dW for this batch, then the
// restraint; the returned update is dense: W0 + D' - W_current.
#include <ATen/core/Tensor.h>

#include <cmath>
#include <map>
#include <memory>
#include <string>

#include "lib/edit/editors/editor.h"
#include "lib/edit/editors/memit_editor.h"

namespace revive::edit {

struct PruneOptions {
  MemitOptions memit;             // base editor options when the base is MEMIT
  double log_base = std::exp(1.0);  // published func_log; EasyEdit also ships 1.2, 1.5, 2
};

// The restrained accumulated update U diag(F(s)) V^T (f64) of `accumulated`.
at::Tensor prune_restrain(const at::Tensor& accumulated, double sigma0, double log_base);

class PruneEditor : public WrappingEditor {
 public:
  explicit PruneEditor(PruneOptions opts = {}, std::unique_ptr<Editor> base = nullptr);

  std::string name() const override { return "PRUNE"; }
  // Needs edit.weight (current W) and edit.original_weight (W0). sigma0 is
  // computed once per layer from W0 and cached: W0 must not change between calls.
  WeightUpdate compute(const LayerEdit& edit) override;

  const PruneOptions& options() const { return opts_; }

 private:
  PruneOptions opts_;
  std::map<std::string, double> sigma0_;
};

}  // namespace revive::edit
