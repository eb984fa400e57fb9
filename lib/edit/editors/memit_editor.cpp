#include "lib/edit/editors/memit_editor.h"

#include <ATen/ATen.h>

#include "sharding/errors.h"

namespace revive::edit {

at::Tensor memit_solve(const at::Tensor& second_moment, const at::Tensor& keys, double mom2_update_weight,
                       const std::string& what, SolveMethod* used, const at::Tensor& past) {
  const at::Tensor k = keys.to(second_moment.device(), at::kDouble);
  // A = lambda C + K K^T, formed in f64 (addmm: one d_in x d_in temporary).
  at::Tensor a = at::addmm(second_moment.to(at::kDouble), k, k.t(), /*beta=*/mom2_update_weight, /*alpha=*/1.0);
  if (past.defined()) a.add_(past.to(a.device(), at::kDouble));
  return solve_symmetric(a, k, what, used);
}

MemitEditor::MemitEditor(MemitOptions opts) : opts_(opts) {
  if (!(opts_.mom2_update_weight >= 0.0)) {
    throw Error("MEMIT: mom2_update_weight must be >= 0, got " + std::to_string(opts_.mom2_update_weight));
  }
}

void MemitEditor::set_statistics(const std::string& layer, const at::Tensor& second_moment) {
  check_second_moment(name(), layer, second_moment);
  c_[layer] = second_moment;
  if (opts_.key_memory) {
    cache_.add_layer(layer, second_moment.size(0),
                     second_moment.options().dtype(compute_dtype(second_moment.scalar_type())));
  }
}

void MemitEditor::record_keys(const std::string& layer, const at::Tensor& keys) {
  if (opts_.key_memory) cache_.record(layer, keys);
}

at::Tensor MemitEditor::solve_keys(const std::string& layer, const at::Tensor& keys) {
  const at::Tensor& c = find_operator(c_, name(), layer);
  check_keys(name(), layer, keys, c.size(0));
  const auto out = compute_dtype(keys.scalar_type());
  const at::Tensor past = opts_.key_memory ? cache_.get(layer) : at::Tensor();
  return memit_solve(c, keys, opts_.mom2_update_weight, name() + " solve of layer '" + layer + "'", &last_method_,
                     past)
      .to(keys.device(), out);
}

}  // namespace revive::edit
