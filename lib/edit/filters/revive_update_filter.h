#pragma once
// The REVIVE filter (lib/spectral/revive_filter.h) as an update filter:
//     dW_safe = (I - U_k U_k^T) dW (I - V_k V_k^T),
// kept factored for factored updates (R_safe = (I - U_k U_k^T) R,
// X_safe = (I - V_k V_k^T) X: one k x n all-reduce on the split side, nothing
// d_out x d_in communicated) and applied to the local shard for dense ones.
// Collective over the basis' reduce_group() when the weight is split: every rank
// of the tp group applies its pipeline to every layer in the same order.
#include <string>

#include "lib/edit/filters/update_filter.h"
#include "lib/spectral/revive_filter.h"

namespace revive::edit {

class ReviveUpdateFilter : public UpdateFilter {
 public:
  // Keeps a reference: the filter (and its basis) must outlive this object.
  explicit ReviveUpdateFilter(const spectral::ReviveFilter& filter) : filter_(filter) {}
  // "revive" (the paper's two-sided filter), "revive-output", "revive-input", "revive-block".
  std::string name() const override;
  // Throws when `weight` is not laid out as the weight the basis was made for.
  WeightUpdate apply(const WeightUpdate& update, const sharding::ShardedTensor& weight) const override;

 private:
  const spectral::ReviveFilter& filter_;
};

}  // namespace revive::edit
