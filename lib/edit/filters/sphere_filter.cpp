#include "lib/edit/filters/sphere_filter.h"

#include <ATen/ATen.h>

#include "lib/spectral/sharded_matrix.h"
#include "lib/spectral/truncated_svd.h"
#include "sharding/errors.h"

namespace revive::edit {
namespace {

// The weight with each row scaled to unit norm (the reference adds 1e-8 to the
// norm), laid out as the weight; row norms summed over a column split.
sharding::ShardedTensor row_normalised(const sharding::ShardedTensor& w) {
  const at::Tensor local = w.local().to(at::kDouble);
  at::Tensor sq = local.pow(2).sum(1, /*keepdim=*/true);
  if (w.spec().layout == sharding::Layout::kRow) spectral::sum_over(&w.reduce_group(), sq);
  return sharding::ShardedTensor((local / (sq.sqrt() + 1e-8)).contiguous(), w.spec(), w.reduce_group());
}

}  // namespace

SphereFilter::SphereFilter(SphereOptions opts) : opts_(opts) {
  if (!(opts_.energy_ratio > 0.0 && opts_.energy_ratio <= 1.0)) {
    throw Error("SPHERE filter: the energy ratio (eta) must be in (0, 1], got " +
                std::to_string(opts_.energy_ratio));
  }
  if (!(opts_.alpha >= 0.0 && opts_.alpha <= 1.0)) {
    throw Error("SPHERE filter: alpha must be in [0, 1], got " + std::to_string(opts_.alpha));
  }
}

WeightUpdate SphereFilter::apply(const WeightUpdate& update, const sharding::ShardedTensor& weight) const {
  spectral::SvdOptions svd;
  svd.energy = opts_.energy_ratio;
  svd.engine = spectral::SvdEngine::kGramEigen;
  const spectral::ShardedSvdResult dirs = spectral::truncated_svd(row_normalised(weight), svd);
  last_k_ = dirs.k;
  // P laid out like the weight's columns; P^T x summed over their split.
  sharding::Communicator* cols =
      weight.spec().layout == sharding::Layout::kRow ? &weight.reduce_group() : nullptr;
  auto suppress = [&](const at::Tensor& x) {  // x - alpha P (P^T x), x: d_in(local) x n
    const at::Tensor xd = x.to(at::kDouble);
    const at::Tensor p = dirs.v.local().to(at::kDouble);
    at::Tensor coeff = at::matmul(p.t(), xd);
    spectral::sum_over(cols, coeff);
    return (xd - opts_.alpha * at::matmul(p, coeff)).to(x.scalar_type());
  };
  if (update.is_factored()) return WeightUpdate::factored(update.layer(), update.r(), suppress(update.x()));
  return WeightUpdate::dense(update.layer(), suppress(update.dense_delta().t()).t().contiguous());
}

}  // namespace revive::edit
