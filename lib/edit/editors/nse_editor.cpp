#include "lib/edit/editors/nse_editor.h"

#include <ATen/ATen.h>

#include <algorithm>

#include "lib/edit/editors/memit_editor.h"
#include "sharding/errors.h"

namespace revive::edit {

at::Tensor select_neurons(const at::Tensor& keys, double threshold) {
  if (!(threshold > 0.0 && threshold <= 1.0)) {
    throw Error("NSE: neuron_threshold must be in (0, 1], got " + std::to_string(threshold));
  }
  const at::Tensor score = keys.to(at::kDouble).abs().sum(1);  // d_in
  at::Tensor sorted, order;
  std::tie(sorted, order) = at::sort(score, /*dim=*/0, /*descending=*/true);
  const double total = score.sum().item<double>();
  if (!(total > 0.0)) return at::zeros({0}, keys.options().dtype(at::kLong));
  // The published rule: positions whose cumulative score is <= threshold * total.
  // The relative slack keeps threshold 1.0 from losing the last neurons to the
  // rounding of the cumulative sum.
  const at::Tensor within = sorted.cumsum(0) <= total * threshold * (1.0 + 1e-12);
  const int64_t count = std::max<int64_t>(1, within.sum().item<int64_t>());
  at::Tensor picked = order.narrow(0, 0, count);
  picked = picked.masked_select(sorted.narrow(0, 0, count) > 0);  // never a silent neuron
  return std::get<0>(at::sort(picked));
}

NseEditor::NseEditor(NseOptions opts) : opts_(opts) {
  if (!(opts_.mom2_update_weight >= 0.0)) throw Error("NSE: mom2_update_weight must be >= 0");
  if (!(opts_.neuron_threshold > 0.0 && opts_.neuron_threshold <= 1.0)) {
    throw Error("NSE: neuron_threshold must be in (0, 1], got " + std::to_string(opts_.neuron_threshold));
  }
}

void NseEditor::set_statistics(const std::string& layer, const at::Tensor& second_moment) {
  check_second_moment(name(), layer, second_moment);
  c_[layer] = second_moment;
  cache_.add_layer(layer, second_moment.size(0),
                   second_moment.options().dtype(compute_dtype(second_moment.scalar_type())));
}

at::Tensor NseEditor::solve_keys(const std::string& layer, const at::Tensor& keys) {
  const at::Tensor& c = find_operator(c_, name(), layer);
  check_keys(name(), layer, keys, c.size(0));
  // On the operators' device; X goes back to the keys'.
  const at::Tensor k = keys.to(c.device());
  last_selection_ = select_neurons(k, opts_.neuron_threshold);
  const auto out = at::TensorOptions().dtype(compute_dtype(keys.scalar_type())).device(keys.device());
  at::Tensor x = at::zeros({keys.size(0), keys.size(1)}, c.options().dtype(at::kDouble));
  if (last_selection_.numel() == 0) return x.to(out);
  const at::Tensor& s = last_selection_;
  auto restrict = [&](const at::Tensor& m) { return m.to(at::kDouble).index_select(0, s).index_select(1, s); };
  // lambda C_SS + (K_p K_p^T)_SS, handed to the MEMIT solve with weight 1.
  const at::Tensor op = restrict(c) * opts_.mom2_update_weight + restrict(cache_.get(layer));
  const at::Tensor x_s = memit_solve(op, k.index_select(0, s), 1.0, "NSE solve of layer '" + layer + "'");
  x.index_copy_(0, s, x_s);
  return x.to(out);
}

}  // namespace revive::edit
