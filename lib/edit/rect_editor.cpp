#include "lib/edit/rect_editor.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <cmath>

#include "sharding/errors.h"

namespace revive::edit {

at::Tensor rect_mask(const at::Tensor& dw, const at::Tensor& weight, double keep_fraction) {
  if (!(keep_fraction > 0.0 && keep_fraction <= 1.0)) {
    throw Error("RECT: keep_fraction must be in (0, 1], got " + std::to_string(keep_fraction));
  }
  if (!weight.defined() || weight.sizes() != dw.sizes()) {
    throw Error("RECT: the current weight " + (weight.defined() ? c10::str(weight.sizes()) : std::string("(none)")) +
                " must have the update's shape " + c10::str(dw.sizes()));
  }
  const at::Tensor d = dw.to(at::kDouble).abs(), w = weight.to(at::kDouble).abs();
  // |dW| / |W| with 0/0 -> 0 (no change) and x/0 -> +inf.
  const at::Tensor rel = at::where(d == 0, at::zeros_like(d), d / w).flatten();
  const int64_t keep = std::min<int64_t>(rel.numel(), static_cast<int64_t>(std::ceil(keep_fraction * rel.numel())));
  at::Tensor mask = at::zeros({rel.numel()}, at::kBool);
  mask.index_fill_(0, std::get<1>(at::topk(rel, keep)), true);
  return mask.view(dw.sizes());
}

at::Tensor rect_sparsify(const at::Tensor& dw, const at::Tensor& weight, double keep_fraction) {
  return dw * rect_mask(dw, weight, keep_fraction).to(dw.scalar_type());
}

RectEditor::RectEditor(RectOptions opts, std::unique_ptr<Editor> base)
    : WrappingEditor(base ? std::move(base) : std::make_unique<MemitEditor>(opts.memit)), opts_(opts) {
  if (!(opts_.keep_fraction > 0.0 && opts_.keep_fraction <= 1.0)) {
    throw Error("RECT: keep_fraction must be in (0, 1], got " + std::to_string(opts_.keep_fraction));
  }
}

WeightUpdate RectEditor::compute(const LayerEdit& edit) {
  if (!edit.weight.defined()) throw Error("RECT: layer '" + edit.layer + "' needs the current weight");
  const at::Tensor dw = base().compute(edit).materialize();
  return WeightUpdate::dense(edit.layer, rect_sparsify(dw, edit.weight, opts_.keep_fraction));
}

}  // namespace revive::edit
