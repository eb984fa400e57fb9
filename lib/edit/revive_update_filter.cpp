#include "lib/edit/revive_update_filter.h"

#include <ATen/ATen.h>

namespace revive::edit {

WeightUpdate ReviveUpdateFilter::apply(const WeightUpdate& update, const at::Tensor&) const {
  if (update.is_factored()) {
    const spectral::FactoredUpdate safe = filter_.apply(spectral::FactoredUpdate{update.r(), update.x()});
    return WeightUpdate::factored(update.layer(), safe.r, safe.x);
  }
  return WeightUpdate::dense(update.layer(), filter_.apply(update.dense_delta()));
}

}  // namespace revive::edit
