#include "lib/spectral/drift_metrics.h"

#include <ATen/ATen.h>

#include <cmath>

#include "lib/spectral/sharded_matrix.h"
#include "lib/spectral/truncated_svd.h"
#include "sharding/errors.h"

namespace revive::spectral {
namespace {

// a^T b (k x k, f64) summed over the row split.
at::Tensor cross(const at::Tensor& a, const at::Tensor& b, sharding::Communicator* group) {
  at::Tensor c = at::matmul(a.to(at::kDouble).t(), b.to(at::kDouble));
  sum_over(group, c);
  return c;
}

}  // namespace

double subspace_similarity(const at::Tensor& a, const at::Tensor& b, sharding::Communicator* group) {
  REVIVE_CHECK(a.size(1) > 0, "subspace_similarity: empty basis");
  return cross(a, b, group).square().sum().item<double>() / static_cast<double>(a.size(1));
}

double energy_weighted_similarity(const at::Tensor& reference, const at::Tensor& reference_s,
                                  const at::Tensor& estimate, sharding::Communicator* group) {
  // Column i of the cross product holds estimate^T reference_i.
  const at::Tensor captured = cross(estimate, reference, group).square().sum(0);
  const at::Tensor w = reference_s.to(at::kDouble).square();
  return (w * captured).sum().item<double>() / w.sum().item<double>();
}

DriftMetrics spectral_drift(const ProtectedBasis& original, const sharding::ShardedTensor& current,
                            const SvdOptions& opts) {
  if (current.spec().global_shape != original.weight_spec().global_shape ||
      current.spec().dim != original.weight_spec().dim || current.spec().offset != original.weight_spec().offset) {
    throw Error("spectral_drift: the current weight is not laid out like the basis of '" + original.source() + "'");
  }
  const ShardedMatrix w = ShardedMatrix::from(current);
  SvdOptions o = opts;
  // The basis's engine unless one is forced: with another estimate of the same
  // top k, an unedited weight would measure as slightly rotated.
  if (o.engine == SvdEngine::kAuto) o.engine = original.engine();
  o.energy = 0;
  o.rsvd.rank = original.k();
  const SvdResult now = truncated_svd(w, o);
  const at::Tensor& u0 = original.u().local();
  const at::Tensor& v0 = original.v().local();

  DriftMetrics d;
  d.k = original.k();
  const at::Tensor cu = cross(u0, now.u, w.row_group());
  const at::Tensor cv = cross(v0, now.v, w.col_group());
  d.subspace_similarity_u = cu.square().sum().item<double>() / d.k;
  d.subspace_similarity_v = cv.square().sum().item<double>() / d.k;
  const at::Tensor w0 = original.s().to(at::kDouble).square();
  d.energy_weighted_similarity_u = (w0 * cu.square().sum(1)).sum().item<double>() / w0.sum().item<double>();
  d.energy_weighted_similarity_v = (w0 * cv.square().sum(1)).sum().item<double>() / w0.sum().item<double>();
  d.direction_cos_u = cu.diagonal().abs().contiguous();
  d.direction_cos_v = cv.diagonal().abs().contiguous();
  d.singular_values = now.s;
  d.energy_share = now.s.square().sum().item<double>() / now.frobenius_sq;
  // U_k^T W' V_k: W' V_k on the row side, then reduce U_k^T over the row split.
  const at::Tensor wv = w.apply(v0);
  d.protected_energy_share = cross(u0, wv, w.row_group()).square().sum().item<double>() / now.frobenius_sq;
  d.frobenius_growth = std::sqrt(now.frobenius_sq / original.frobenius_sq());
  d.spectral_growth = now.s[0].item<double>() / original.s()[0].item<double>();
  return d;
}

}  // namespace revive::spectral
