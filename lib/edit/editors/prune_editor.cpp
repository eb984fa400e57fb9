#include "lib/edit/editors/prune_editor.h"

#include <ATen/ATen.h>

#include "sharding/errors.h"

namespace revive::edit {

std::string prune_when_name(PruneWhen when) { return when == PruneWhen::kAfterLastBatch ? "end" : "batch"; }

PruneWhen parse_prune_when(const std::string& name, const std::string& option) {
  if (name == "end") return PruneWhen::kAfterLastBatch;
  if (name == "batch") return PruneWhen::kEveryBatch;
  throw InputError(option, "", "'" + name + "' is not end (once, after the last batch) or batch (after every batch)");
}

at::Tensor prune_restrain(const at::Tensor& accumulated, double sigma0, double log_base) {
  if (!(sigma0 > 0.0)) throw Error("PRUNE: the original weight's largest singular value must be > 0");
  if (!(log_base > 1.0)) throw Error("PRUNE: log_base must be > 1, got " + std::to_string(log_base));
  at::Tensor u, s, vh;
  std::tie(u, s, vh) = at::linalg_svd(accumulated.to(at::kDouble), /*full_matrices=*/false);
  const double ln_base = std::log(log_base);
  const at::Tensor restrained = at::log(s) / ln_base - std::log(sigma0) / ln_base + sigma0;
  const at::Tensor s_new = at::where(s >= sigma0, restrained, s);
  return at::matmul(u * s_new.unsqueeze(0), vh);
}

PruneEditor::PruneEditor(PruneOptions opts, std::unique_ptr<Editor> base)
    : WrappingEditor(base ? std::move(base) : std::make_unique<MemitEditor>(opts.memit)), opts_(opts) {
  if (!(opts_.log_base > 1.0)) throw Error("PRUNE: log_base must be > 1, got " + std::to_string(opts_.log_base));
}

WeightUpdate PruneEditor::compute(const LayerEdit& edit) {
  if (opts_.when == PruneWhen::kAfterLastBatch) return base().compute(edit);
  if (!edit.weight.defined()) throw Error("PRUNE: layer '" + edit.layer + "' needs the current weight");
  const at::Tensor dw = base().compute(edit).materialize().to(at::kDouble);
  return restrained_update(edit, edit.weight.to(at::kDouble) + dw);
}

WeightUpdate PruneEditor::finish(const LayerEdit& edit) {
  if (!edit.weight.defined()) throw Error("PRUNE: layer '" + edit.layer + "' needs the current weight");
  return restrained_update(edit, edit.weight.to(at::kDouble));
}

WeightUpdate PruneEditor::restrained_update(const LayerEdit& edit, const at::Tensor& edited) {
  if (!edit.original_weight.defined()) throw Error("PRUNE: layer '" + edit.layer + "' needs the original weight");
  const at::Tensor w = edit.weight.to(at::kDouble), w0 = edit.original_weight.to(at::kDouble);
  auto it = sigma0_.find(edit.layer);
  if (it == sigma0_.end()) {
    it = sigma0_.emplace(edit.layer, at::linalg_matrix_norm(w0, 2).item<double>()).first;
  }
  const at::Tensor restrained = prune_restrain(edited - w0, it->second, opts_.log_base);
  const auto out = compute_dtype(edit.weight.scalar_type());
  return WeightUpdate::dense(edit.layer, (w0 + restrained - w).to(out));
}

}  // namespace revive::edit
