#pragma once
// Update filters: transformations of a WeightUpdate applied after the editor and
// before the write (DESIGN.md section 1: REVIVE runs here; RECT's mask too).
// Composable: a FilterPipeline applies its filters in the order added, so every
// editor runs with or without them. A filter never touches the weight.
#include <ATen/core/Tensor.h>

#include <memory>
#include <string>
#include <vector>

#include "lib/edit/weight_update.h"

namespace revive::sharding {
class Communicator;
}

namespace revive::edit {

class UpdateFilter {
 public:
  virtual ~UpdateFilter() = default;
  virtual std::string name() const = 0;
  // The filtered update. `weight` is the (local shard of the) current weight the
  // update will be added to, laid out like the update.
  virtual WeightUpdate apply(const WeightUpdate& update, const at::Tensor& weight) const = 0;
};

// RECT's mask as a filter: keep the top keep_fraction entries by |dW| / |W|
// (rect_editor.h); the result is dense. For a tensor-parallel weight, `shards`
// is the group its shards are split over (the ranking stays global; collective).
class RectMaskFilter : public UpdateFilter {
 public:
  explicit RectMaskFilter(double keep_fraction = 0.2, sharding::Communicator* shards = nullptr);
  std::string name() const override { return "rect"; }
  WeightUpdate apply(const WeightUpdate& update, const at::Tensor& weight) const override;

 private:
  double keep_fraction_;
  sharding::Communicator* shards_;
};

class FilterPipeline {
 public:
  FilterPipeline& add(std::shared_ptr<const UpdateFilter> filter);
  // Each filter in turn; the result passes check_finite() (a filter must not
  // introduce NaN/Inf either). An empty pipeline returns the update unchanged.
  WeightUpdate apply(const WeightUpdate& update, const at::Tensor& weight) const;
  size_t size() const { return filters_.size(); }
  bool empty() const { return filters_.empty(); }
  // "revive+rect", or "none".
  std::string describe() const;

 private:
  std::vector<std::shared_ptr<const UpdateFilter>> filters_;
};

}  // namespace revive::edit
