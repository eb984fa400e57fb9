#include "lib/edit/editors/alphaedit_editor.h"

#include <ATen/ATen.h>

#include <cmath>

#include "lib/edit/editors/linear_solve.h"
#include "sharding/errors.h"

namespace revive::edit {

at::Tensor null_space_projector(const at::Tensor& second_moment, double threshold, int64_t* null_dim) {
  // Symmetrise before eigh: accumulated statistics are symmetric only up to
  // rounding, and eigh reads one triangle.
  const at::Tensor c = second_moment.to(at::kDouble);
  at::Tensor evals, evecs;
  std::tie(evals, evecs) = at::linalg_eigh((c + c.t()) * 0.5);
  const at::Tensor keep = at::nonzero(evals < threshold).flatten();
  if (null_dim) *null_dim = keep.numel();
  const at::Tensor u0 = evecs.index_select(1, keep);
  return at::matmul(u0, u0.t());
}

AlphaEditEditor::AlphaEditEditor(AlphaEditOptions opts) : opts_(opts) {
  if (!(opts_.l2 > 0.0)) throw Error("AlphaEdit: L2 must be > 0, got " + std::to_string(opts_.l2));
  // NaN or <= 0 leaves no null space: every update would be zero and the run "succeed".
  if (!(opts_.nullspace_threshold > 0.0) || !std::isfinite(opts_.nullspace_threshold)) {
    throw Error("AlphaEdit: the null-space threshold must be a finite number > 0, got " +
                std::to_string(opts_.nullspace_threshold));
  }
}

void AlphaEditEditor::set_statistics(const std::string& layer, const at::Tensor& second_moment) {
  check_second_moment(name(), layer, second_moment);
  int64_t dim = 0;
  const auto dtype = compute_dtype(second_moment.scalar_type());
  p_[layer] = null_space_projector(second_moment, opts_.nullspace_threshold, &dim).to(dtype);
  cache_.add_layer(layer, p_[layer].size(0), p_[layer].options());
  null_dim_[layer] = dim;
}

at::Tensor AlphaEditEditor::solve_keys(const std::string& layer, const at::Tensor& keys) {
  const at::Tensor& p_stored = find_operator(p_, name(), layer);
  check_keys(name(), layer, keys, p_stored.size(0));
  // On the operators' device; X goes back to the keys'.
  const at::Tensor p = p_stored.to(at::kDouble), k = keys.to(p_stored.device(), at::kDouble);
  // M = P (K K^T + K_p K_p^T) + L2 I;  X = M^{-1} P K.
  const at::Tensor inner = at::addmm(cache_.get(layer).to(at::kDouble), k, k.t());
  at::Tensor m = at::matmul(p, inner);
  m.diagonal().add_(opts_.l2);
  const auto out = compute_dtype(keys.scalar_type());
  return solve_general(m, at::matmul(p, k), "AlphaEdit solve of layer '" + layer + "'").to(keys.device(), out);
}

void AlphaEditEditor::record_keys(const std::string& layer, const at::Tensor& keys) { cache_.record(layer, keys); }

std::map<std::string, at::Tensor> AlphaEditEditor::state() const { return cache_.state(); }

void AlphaEditEditor::load_state(const std::map<std::string, at::Tensor>& state) { cache_.load_state(state); }

const at::Tensor& AlphaEditEditor::projector(const std::string& layer) const {
  return find_operator(p_, name(), layer);
}

const at::Tensor& AlphaEditEditor::key_cache(const std::string& layer) const { return cache_.get(layer); }

int64_t AlphaEditEditor::null_dim(const std::string& layer) const {
  find_operator(p_, name(), layer);
  return null_dim_.at(layer);
}

}  // namespace revive::edit
