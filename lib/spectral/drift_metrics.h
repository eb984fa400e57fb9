#pragma once
// Spectral drift between the original weight's protected basis and the weight
// as it is now (after edits): how far the dominant singular directions rotated
// and how the spectrum and norms grew. These are the collapse indicators of the
// REVIVE paper.
#include <ATen/core/Tensor.h>

#include "lib/spectral/protected_basis.h"
#include "lib/spectral/svd_options.h"
#include "sharding/sharded_tensor.h"

namespace revive::spectral {

struct DriftMetrics {
  int64_t k = 0;
  // ||U_k^T U'_k||_F^2 / k in [0, 1] (1: same subspace), and for V.
  double subspace_similarity_u = 0, subspace_similarity_v = 0;
  // sum_i s_i^2 ||U'_k^T u_i||^2 / sum_i s_i^2: the same, each original
  // direction weighted by its energy (robust where the spectrum has no gap at k).
  double energy_weighted_similarity_u = 0, energy_weighted_similarity_v = 0;
  at::Tensor direction_cos_u, direction_cos_v;  // |u_i^T u'_i|, |v_i^T v'_i| (k, f64)
  at::Tensor singular_values;                   // top k of the current weight (f64)
  double energy_share = 0;            // sum_{i<=k} s'_i^2 / ||W'||_F^2
  double protected_energy_share = 0;  // ||U_k^T W' V_k||_F^2 / ||W'||_F^2
  double frobenius_growth = 0;        // ||W'||_F / ||W0||_F
  double spectral_growth = 0;         // s'_1 / s_1
};

// Collective over current.reduce_group(); `current` must be laid out like the
// basis's weight. The current weight's top-k SVD uses `opts` with rank k, by
// the engine that made the basis unless opts forces one (the cost model's
// where the basis does not say).
DriftMetrics spectral_drift(const ProtectedBasis& original, const sharding::ShardedTensor& current,
                            const SvdOptions& opts = {});

// The two similarities on replicated or split factors laid out alike: a and b
// are this rank's rows; `group` sums over the row split (nullptr when whole).
double subspace_similarity(const at::Tensor& a, const at::Tensor& b, sharding::Communicator* group = nullptr);
double energy_weighted_similarity(const at::Tensor& reference, const at::Tensor& reference_s,
                                  const at::Tensor& estimate, sharding::Communicator* group = nullptr);

}  // namespace revive::spectral
