#include "lib/edit/filters/update_filter.h"

#include "lib/edit/editors/rect_editor.h"
#include "sharding/errors.h"

namespace revive::edit {

RectMaskFilter::RectMaskFilter(double keep_fraction) : keep_fraction_(keep_fraction) {
  if (!(keep_fraction_ > 0.0 && keep_fraction_ <= 1.0)) {
    throw Error("RECT filter: keep_fraction must be in (0, 1], got " + std::to_string(keep_fraction_));
  }
}

WeightUpdate RectMaskFilter::apply(const WeightUpdate& update, const sharding::ShardedTensor& weight) const {
  sharding::Communicator* shards =
      weight.spec().dim >= 0 && weight.reduce_group().size() > 1 ? &weight.reduce_group() : nullptr;
  return WeightUpdate::dense(update.layer(),
                             rect_sparsify(update.materialize(), weight.local(), keep_fraction_, shards));
}

FilterPipeline& FilterPipeline::add(std::shared_ptr<const UpdateFilter> filter) {
  if (!filter) throw Error("FilterPipeline: null filter");
  filters_.push_back(std::move(filter));
  return *this;
}

WeightUpdate FilterPipeline::apply(const WeightUpdate& update, const sharding::ShardedTensor& weight) const {
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
