#include "lib/edit/editors/rect_editor.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include "sharding/comm/communicator.h"
#include "sharding/comm/staged_collectives.h"
#include "sharding/errors.h"

namespace revive::edit {

namespace {

// A count of this rank's entries summed over the group (the whole matrix).
int64_t rect_total(int64_t local, sharding::Communicator* group) {
  if (group == nullptr || group->size() == 1) return local;
  at::Tensor n = at::full({1}, local, at::kLong);
  sharding::all_reduce_staged(*group, n);
  return n.item<int64_t>();
}

int64_t rect_count(const at::Tensor& matches, sharding::Communicator* group) {
  return rect_total(matches.sum().item<int64_t>(), group);
}

double rect_from_bits(int64_t bits) {
  double v;
  std::memcpy(&v, &bits, sizeof v);
  return v;
}

}  // namespace

at::Tensor rect_mask(const at::Tensor& dw, const at::Tensor& weight, double keep_fraction,
                     sharding::Communicator* group) {
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
  if (rel.isnan().any().item<bool>()) throw Error("RECT: the update has NaN entries");
  const int64_t total = rect_total(rel.numel(), group);
  const int64_t keep = std::min<int64_t>(total, static_cast<int64_t>(std::ceil(keep_fraction * total)));

  // The keep-th largest value v over all shards, by bisection on the bit
  // pattern (monotone for non-negative doubles, +inf included): exact, and the
  // shards only exchange counts. Largest v with #(rel >= v) >= keep.
  int64_t lo = 0, hi = 0;
  const double inf = std::numeric_limits<double>::infinity();
  std::memcpy(&hi, &inf, sizeof hi);
  while (lo < hi) {
    const int64_t mid = lo + (hi - lo + 1) / 2;
    if (rect_count(rel >= rect_from_bits(mid), group) >= keep) {
      lo = mid;
    } else {
      hi = mid - 1;
    }
  }
  const double v = rect_from_bits(lo);
  const at::Tensor above = rel > v, ties = rel == v;
  // Ties at v fill the remaining places in (tp rank, local flat index) order -
  // flat index order on one process. Exact ties need equal relative changes,
  // in practice only zero updates, whose mask changes nothing.
  int64_t quota = keep - rect_count(above, group);
  if (group != nullptr && group->size() > 1) {
    const at::Tensor per_rank = sharding::all_gather_staged(*group, ties.sum().to(at::kLong).reshape({1})).cpu();
    quota -= per_rank.narrow(0, 0, group->rank()).sum().item<int64_t>();
  }
  const at::Tensor tie_order = ties.to(at::kLong).cumsum(0);  // 1-based rank among local ties
  const at::Tensor mask = above | (ties & (tie_order <= quota));
  return mask.view(dw.sizes());
}

at::Tensor rect_sparsify(const at::Tensor& dw, const at::Tensor& weight, double keep_fraction,
                         sharding::Communicator* group) {
  return dw * rect_mask(dw, weight, keep_fraction, group).to(dw.scalar_type());
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
