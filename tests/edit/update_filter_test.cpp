// The update-filter pipeline: RECT's mask as a filter, composition order, and
// the finite check on every filter's output.
#include "lib/edit/filters/update_filter.h"

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include "lib/edit/editors/rect_editor.h"
#include "sharding/comm/local_communicator.h"
#include "sharding/errors.h"
#include "tests/edit/edit_fixtures.h"

namespace revive::edit {
namespace {

using testing::randn;
using testing::rel_err;

// A whole (unsplit) weight, as a single process holds it.
sharding::ShardedTensor whole(const at::Tensor& w) {
  static sharding::LocalCommunicator solo("solo");
  return sharding::ShardedTensor::from_full(w, sharding::Layout::kReplicated, solo);
}

// A test filter: scales the update (keeps it factored).
class ScaleFilter : public UpdateFilter {
 public:
  explicit ScaleFilter(double s) : s_(s) {}
  std::string name() const override { return "scale"; }
  WeightUpdate apply(const WeightUpdate& u, const sharding::ShardedTensor&) const override {
    return u.is_factored() ? WeightUpdate::factored(u.layer(), u.r() * s_, u.x())
                           : WeightUpdate::dense(u.layer(), u.dense_delta() * s_);
  }

 private:
  double s_;
};

TEST(FilterPipeline, EmptyPipelineReturnsTheUpdate) {
  const WeightUpdate u = WeightUpdate::factored("l", randn({4, 2}, 1), randn({5, 2}, 2));
  FilterPipeline p;
  EXPECT_EQ(p.describe(), "none");
  const WeightUpdate out = p.apply(u, whole(randn({4, 5}, 3)));
  EXPECT_TRUE(out.is_factored());
  EXPECT_TRUE(at::equal(out.materialize(), u.materialize()));
}

TEST(FilterPipeline, RectFilterEqualsRectSparsify) {
  const WeightUpdate u = WeightUpdate::factored("l", randn({6, 2}, 4), randn({8, 2}, 5));
  const at::Tensor w = randn({6, 8}, 6);
  FilterPipeline p;
  p.add(std::make_shared<RectMaskFilter>(0.25));
  EXPECT_EQ(p.describe(), "rect");
  const WeightUpdate out = p.apply(u, whole(w));
  EXPECT_FALSE(out.is_factored());
  EXPECT_TRUE(at::equal(out.materialize(), rect_sparsify(u.materialize(), w, 0.25)));
  EXPECT_EQ(at::count_nonzero(out.materialize()).item<int64_t>(), 12);
}

TEST(FilterPipeline, FiltersRunInTheOrderAdded) {
  const WeightUpdate u = WeightUpdate::factored("l", randn({5, 2}, 7), randn({5, 2}, 8));
  const at::Tensor w = randn({5, 5}, 9);
  // Masks depend on |dW| / |W|; a scale before the mask changes values, not the
  // mask, so both orders agree here, while a NaN-producing filter is caught
  // wherever it sits.
  FilterPipeline a, b;
  a.add(std::make_shared<ScaleFilter>(3.0)).add(std::make_shared<RectMaskFilter>(0.2));
  b.add(std::make_shared<RectMaskFilter>(0.2)).add(std::make_shared<ScaleFilter>(3.0));
  EXPECT_EQ(a.describe(), "scale+rect");
  EXPECT_LT(rel_err(a.apply(u, whole(w)).materialize(), b.apply(u, whole(w)).materialize()), 1e-15);
  EXPECT_LT(rel_err(a.apply(u, whole(w)).materialize(), 3.0 * rect_sparsify(u.materialize(), w, 0.2)), 1e-15);

  FilterPipeline bad;
  bad.add(std::make_shared<ScaleFilter>(std::numeric_limits<double>::quiet_NaN()));
  EXPECT_THROW(bad.apply(u, whole(w)), Error);
  EXPECT_THROW(bad.add(nullptr), Error);
  EXPECT_THROW(RectMaskFilter(1.5), Error);
}

}  // namespace
}  // namespace revive::edit
