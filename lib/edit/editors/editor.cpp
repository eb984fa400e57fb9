#include "lib/edit/editors/editor.h"

#include <ATen/ATen.h>

#include "sharding/errors.h"

namespace revive::edit {

WeightUpdate Editor::finish(const LayerEdit& edit) {
  throw Error(name() + " has no step after the last batch (layer '" + edit.layer + "')");
}

WeightUpdate FactoredEditor::compute(const LayerEdit& edit) {
  at::Tensor x = solve_keys(edit.layer, edit.keys);
  check_layer_edit(name(), edit, x.size(0));
  at::Tensor r = edit.residual.to(x.scalar_type());  // before x is moved from
  return WeightUpdate::factored(edit.layer, std::move(r), std::move(x));
}

at::Tensor spread_residual(const at::Tensor& remaining_residual, int64_t position, int64_t num_layers) {
  if (num_layers < 1 || position < 0 || position >= num_layers) {
    throw Error("spread_residual: layer position " + std::to_string(position) + " is outside 0.." +
                std::to_string(num_layers - 1));
  }
  return remaining_residual / static_cast<double>(num_layers - position);
}

void check_second_moment(const std::string& editor, const std::string& layer, const at::Tensor& c) {
  if (!c.defined() || c.dim() != 2 || c.size(0) != c.size(1) || !c.is_floating_point()) {
    throw Error(editor + ": statistics of layer '" + layer + "' must be a square floating-point matrix, got " +
                (c.defined() ? c10::str(c.sizes()) : std::string("nothing")));
  }
  if (!at::isfinite(c).all().item<bool>()) {
    throw Error(editor + ": statistics of layer '" + layer + "' contain NaN/Inf");
  }
}

void check_keys(const std::string& editor, const std::string& layer, const at::Tensor& keys, int64_t d_in) {
  if (!keys.defined() || keys.dim() != 2 || keys.size(0) != d_in || keys.size(1) < 1 || !keys.is_floating_point()) {
    throw Error(editor + ": keys of layer '" + layer + "' must be a floating-point " + std::to_string(d_in) +
                " x n matrix (n >= 1), got " + (keys.defined() ? c10::str(keys.sizes()) : std::string("nothing")));
  }
}

void check_layer_edit(const std::string& editor, const LayerEdit& edit, int64_t d_in) {
  check_keys(editor, edit.layer, edit.keys, d_in);
  const at::Tensor& r = edit.residual;
  if (!r.defined() || r.dim() != 2 || r.size(1) != edit.keys.size(1) || !r.is_floating_point()) {
    throw Error(editor + ": residual of layer '" + edit.layer + "' must be a floating-point d_out x " +
                std::to_string(edit.keys.size(1)) + " matrix (one column per key), got " +
                (r.defined() ? c10::str(r.sizes()) : std::string("nothing")));
  }
  for (const at::Tensor* w : {&edit.weight, &edit.original_weight}) {
    if (w->defined() && (w->dim() != 2 || w->size(0) != r.size(0) || w->size(1) != d_in)) {
      throw Error(editor + ": weight of layer '" + edit.layer + "' is " + c10::str(w->sizes()) + ", expected " +
                  std::to_string(r.size(0)) + " x " + std::to_string(d_in));
    }
  }
}

const at::Tensor& find_operator(const std::map<std::string, at::Tensor>& table, const std::string& editor,
                                const std::string& layer) {
  auto it = table.find(layer);
  if (it == table.end()) {
    std::string known;
    for (const auto& kv : table) known += (known.empty() ? "" : ", ") + kv.first;
    throw Error(editor + ": no statistics for layer '" + layer + "' on this rank (layers held here: " +
                (known.empty() ? std::string("none") : known) + "); call set_statistics() first");
  }
  return it->second;
}

WrappingEditor::WrappingEditor(std::unique_ptr<Editor> base) : base_(std::move(base)) {
  REVIVE_CHECK(base_ != nullptr, "WrappingEditor: no base editor");
}

}  // namespace revive::edit
