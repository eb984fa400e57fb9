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
// When (PruneOptions::when): once, after the run's last batch (the default, as
// both reference codes apply it: the PRUNE authors' `bi_editor_loadw.py` on the
// weights saved after the run, the AlphaEdit repository's MEMIT_prune after its
// last batch), through Editor::finish(); every batch until then writes the base
// editor's (MEMIT's) update unchanged. Or after every batch ("batch", REVIVE's
// earlier behaviour, kept by name): the base's dW, then the restraint of the
// accumulated update, returned dense as W0 + D' - W_current.
// Either way the weight becomes W0 + F(D), as the PRUNE authors set it; the
// AlphaEdit repository adds F(D) to the already edited weight (W0 + D + F(D)),
// which is not reproduced (docs/editors.md).
#include <ATen/core/Tensor.h>

#include <cmath>
#include <map>
#include <memory>
#include <string>

#include "lib/edit/editors/editor.h"
#include "lib/edit/editors/memit_editor.h"

namespace revive::edit {

enum class PruneWhen { kAfterLastBatch, kEveryBatch };

// "end" / "batch", as `revive edit --prune-when` reads them.
std::string prune_when_name(PruneWhen when);
// Throws InputError naming `option` for another name.
PruneWhen parse_prune_when(const std::string& name, const std::string& option);

struct PruneOptions {
  MemitOptions memit;             // base editor options when the base is MEMIT
  double log_base = std::exp(1.0);  // published func_log; EasyEdit also ships 1.2, 1.5, 2
  PruneWhen when = PruneWhen::kAfterLastBatch;
};

// The restrained accumulated update U diag(F(s)) V^T (f64) of `accumulated`.
at::Tensor prune_restrain(const at::Tensor& accumulated, double sigma0, double log_base);

class PruneEditor : public WrappingEditor {
 public:
  explicit PruneEditor(PruneOptions opts = {}, std::unique_ptr<Editor> base = nullptr);

  std::string name() const override { return "PRUNE"; }
  // Both need edit.weight (current W) and edit.original_weight (W0). sigma0 is
  // computed once per layer from W0 and cached: W0 must not change between calls.
  // compute(): the base's update, restrained when `when` is every batch.
  WeightUpdate compute(const LayerEdit& edit) override;
  bool finishes() const override { return opts_.when == PruneWhen::kAfterLastBatch; }
  // The restraint W0 + F(W - W0) - W (keys and residual unused).
  WeightUpdate finish(const LayerEdit& edit) override;

  const PruneOptions& options() const { return opts_; }

 private:
  // W0 + F(D) - W for D = `edited` - W0, in W's compute dtype.
  WeightUpdate restrained_update(const LayerEdit& edit, const at::Tensor& edited);

  PruneOptions opts_;
  std::map<std::string, double> sigma0_;
};

}  // namespace revive::edit
