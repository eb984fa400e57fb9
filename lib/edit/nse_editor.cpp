#include "lib/edit/nse_editor.h"

#include <ATen/ATen.h>

#include "lib/edit/memit_editor.h"
#include "sharding/errors.h"

namespace revive::edit {

at::Tensor select_neurons(const at::Tensor& keys, double fraction) {
  if (!(fraction > 0.0 && fraction <= 1.0)) {
    throw Error("NSE: neuron_mass_fraction must be in (0, 1], got " + std::to_string(fraction));
  }
  const at::Tensor mass = keys.to(at::kDouble).abs();  // d_in x n
  at::Tensor sorted, order;
  std::tie(sorted, order) = at::sort(mass, /*dim=*/0, /*descending=*/true);
  const at::Tensor cum = sorted.cumsum(0);
  const at::Tensor total = cum.narrow(0, cum.size(0) - 1, 1);
  // Position p of a column is selected while the mass before it is still short of
  // the target: cum[p] - sorted[p] < fraction * total. That is the smallest prefix
  // reaching the target (an all-zero key selects nothing).
  const at::Tensor take = (cum - sorted) < total * fraction;
  const at::Tensor selected = at::zeros({keys.size(0)}, at::kBool);
  const at::Tensor picked = order.masked_select(take & (sorted > 0));
  selected.index_fill_(0, picked, true);
  return at::nonzero(selected).flatten();
}

NseEditor::NseEditor(NseOptions opts) : opts_(opts) {
  if (!(opts_.mom2_update_weight >= 0.0)) throw Error("NSE: mom2_update_weight must be >= 0");
  if (!(opts_.neuron_mass_fraction > 0.0 && opts_.neuron_mass_fraction <= 1.0)) {
    throw Error("NSE: neuron_mass_fraction must be in (0, 1], got " + std::to_string(opts_.neuron_mass_fraction));
  }
}

void NseEditor::set_statistics(const std::string& layer, const at::Tensor& second_moment) {
  check_second_moment(name(), layer, second_moment);
  c_[layer] = second_moment;
}

at::Tensor NseEditor::solve_keys(const std::string& layer, const at::Tensor& keys) {
  const at::Tensor& c = find_operator(c_, name(), layer);
  check_keys(name(), layer, keys, c.size(0));
  last_selection_ = select_neurons(keys, opts_.neuron_mass_fraction);
  const auto out = compute_dtype(keys.scalar_type());
  at::Tensor x = at::zeros({keys.size(0), keys.size(1)}, at::kDouble);
  if (last_selection_.numel() == 0) return x.to(out);
  const at::Tensor& s = last_selection_;
  const at::Tensor c_ss = c.index_select(0, s).index_select(1, s);
  const at::Tensor x_s = memit_solve(c_ss, keys.index_select(0, s), opts_.mom2_update_weight,
                                     "NSE solve of layer '" + layer + "'");
  x.index_copy_(0, s, x_s);
  return x.to(out);
}

}  // namespace revive::edit
