#include "lib/edit/filters/revive_update_filter.h"

#include <ATen/ATen.h>

#include "sharding/errors.h"

namespace revive::edit {

std::string ReviveUpdateFilter::name() const {
  return filter_.sides() == spectral::ProtectedSides::kBoth ? "revive"
                                                              : std::string("revive-") + spectral::to_string(filter_.sides());
}

WeightUpdate ReviveUpdateFilter::apply(const WeightUpdate& update, const sharding::ShardedTensor& weight) const {
  const sharding::ShardSpec& made_for = filter_.basis().weight_spec();
  if (weight.spec().layout != made_for.layout || weight.spec().global_shape != made_for.global_shape ||
      weight.spec().offset != made_for.offset || weight.spec().length != made_for.length) {
    throw Error("REVIVE filter of '" + update.layer() + "': the weight is laid out as " +
                sharding::to_string(weight.spec().layout) + " [" + std::to_string(weight.spec().offset) + ", +" +
                std::to_string(weight.spec().length) + "), its basis ('" + filter_.basis().source() +
                "') was made for " + sharding::to_string(made_for.layout) + " [" + std::to_string(made_for.offset) +
                ", +" + std::to_string(made_for.length) + ")");
  }
  if (update.is_factored()) {
    const spectral::FactoredUpdate safe = filter_.apply(spectral::FactoredUpdate{update.r(), update.x()});
    return WeightUpdate::factored(update.layer(), safe.r, safe.x);
  }
  return WeightUpdate::dense(update.layer(), filter_.apply(update.dense_delta()));
}

}  // namespace revive::edit
