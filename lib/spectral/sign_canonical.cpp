// Sign convention of every factorisation REVIVE returns: the entry of largest
// magnitude of each left singular vector is positive. Defined on the global U,
// so it does not depend on how U's rows are split.
#include <ATen/ATen.h>

#include "lib/spectral/svd_engines.h"
#include "sharding/comm/staged_collectives.h"

namespace revive::spectral {

void canonicalize_signs(const ShardedMatrix& a, at::Tensor& u, at::Tensor& v) {
  const int64_t k = u.size(1);
  if (k == 0) return;
  // Per column: largest |u| held here and its signed value (first one on ties).
  at::Tensor local = u.to(at::kDouble);
  at::Tensor mag, pick;
  if (local.size(0) > 0) {
    auto [m, idx] = local.abs().max(0);
    mag = m;
    pick = local.gather(0, idx.unsqueeze(0)).squeeze(0);
  } else {
    mag = at::full({k}, -1.0, local.options());  // an empty shard never wins
    pick = at::zeros({k}, local.options());
  }
  at::Tensor both = at::cat({mag, pick}).reshape({1, 2 * k}).contiguous();
  sharding::Communicator* group = a.row_group();
  if (group != nullptr && group->size() > 1) both = sharding::all_gather_staged(*group, both);  // rank order = row order
  both = both.cpu();  // 2k numbers; the choice below is serial
  const double* d = both.data_ptr<double>();
  at::Tensor sign = at::ones({k}, at::kDouble);
  double* sg = sign.data_ptr<double>();
  for (int64_t j = 0; j < k; ++j) {
    double best = -1.0, value = 1.0;
    for (int64_t r = 0; r < both.size(0); ++r) {
      if (d[r * 2 * k + j] > best) {
        best = d[r * 2 * k + j];
        value = d[r * 2 * k + k + j];
      }
    }
    sg[j] = value < 0 ? -1.0 : 1.0;
  }
  u = u * sign.to(u.device(), u.scalar_type());
  v = v * sign.to(v.device(), v.scalar_type());
}

}  // namespace revive::spectral
