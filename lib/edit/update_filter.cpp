#include "lib/edit/update_filter.h"

#include "lib/edit/rect_editor.h"
#include "sharding/errors.h"

namespace revive::edit {

RectMaskFilter::RectMaskFilter(double keep_fraction, sharding::Communicator* shards)
    : keep_fraction_(keep_fraction), shards_(shards) {
  if (!(keep_fraction_ > 0.0 && keep_fraction_ <= 1.0)) {
    throw Error("RECT filter: keep_fraction must be in (0, 1], got " + std::to_string(keep_fraction_));
  }
}

WeightUpdate RectMaskFilter::apply(const WeightUpdate& update, const at::Tensor& weight) const {
  return WeightUpdate::dense(update.layer(), rect_sparsify(update.materialize(), weight, keep_fraction_, shards_));
}

FilterPipeline& FilterPipeline::add(std::shared_ptr<const UpdateFilter> filter) {
  if (!filter) throw Error("FilterPipeline: null filter");
  filters_.push_back(std::move(filter));
  return *this;
}

WeightUpdate FilterPipeline::apply(const WeightUpdate& update, const at::Tensor& weight) const {
  WeightUpdate u = update;
  for (const auto& f : filters_) {
    u.check_finite();
    u = f->apply(u, weight);
  }
  u.check_finite();
  return u;
}

std::string FilterPipeline::describe() const {
  std::string s;
  for (const auto& f : filters_) s += (s.empty() ? "" : "+") + f->name();
  return s.empty() ? "none" : s;
}

}  // namespace revive::edit
