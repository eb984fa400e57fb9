#pragma once
// Update filters: transformations of a WeightUpdate applied after the editor and
// before the write (DESIGN.md section 1: REVIVE runs here; RECT's mask too).
// Composable: a FilterPipeline applies its filters in the order added, so every
// editor runs with or without them. A filter never touches the weight; it asks
// the weight for its layout, so a filter over the whole matrix of a split weight
// (RECT's ranking, REVIVE's projections) reduces over the weight's own group and
// no caller has to say so.
#include <ATen/core/Tensor.h>

#include <memory>
#include <string>
#include <vector>

#include "lib/edit/weight_update.h"
#include "sharding/sharded_tensor.h"

namespace revive::edit {

class UpdateFilter {
 public:
  virtual ~UpdateFilter() = default;
  virtual std::string name() const = 0;
  // The filtered update. `weight` is the current weight the update will be added
  // to; the update is laid out like weight.local(). Collective over
  // weight.reduce_group() for filters that need the whole matrix.
  virtual WeightUpdate apply(const WeightUpdate& update, const sharding::ShardedTensor& weight) const = 0;
};

// RECT's mask as a filter: keep the top keep_fraction entries by |dW| / |W|
// (rect_editor.h); the result is dense. The ranking is over the whole matrix:
// for a split weight, across its shards (collective over its group).
class RectMaskFilter : public UpdateFilter {
 public:
  explicit RectMaskFilter(double keep_fraction = 0.2);
  std::string name() const override { return "rect"; }
  WeightUpdate apply(const WeightUpdate& update, const sharding::ShardedTensor& weight) const override;

 private:
  double keep_fraction_;
};

class FilterPipeline {
 public:
  FilterPipeline& add(std::shared_ptr<const UpdateFilter> filter);
  // Each filter in turn; the result passes check_finite() (a filter must not
  // introduce NaN/Inf either). An empty pipeline returns the update unchanged.
  WeightUpdate apply(const WeightUpdate& update, const sharding::ShardedTensor& weight) const;
  size_t size() const { return filters_.size(); }
  bool empty() const { return filters_.empty(); }
  // "revive+rect", or "none".
  std::string describe() const;

 private:
  std::vector<std::shared_ptr<const UpdateFilter>> filters_;
};

}  // namespace revive::edit
