#pragma once
// The two engines behind truncated_svd() (internal to lib/spectral). Both take a
// ShardedMatrix and return U distributed like A's rows and V like A's columns,
// with singular values descending; signs are fixed afterwards by
// canonicalize_signs(). Collective over a.group when A is split.
#include <ATen/core/Tensor.h>

#include "lib/spectral/sharded_matrix.h"
#include "lib/spectral/svd_options.h"

namespace revive::spectral {

struct SvdFactors {
  at::Tensor u;  // this rank's rows of U (all of U when A's rows are not split)
  at::Tensor s;  // f64, replicated
  at::Tensor v;  // this rank's rows of V
};

// Randomized range finder with opts.power_iters re-orthonormalised power steps;
// rank opts.rank. The steps run on A or on the Gram of the smaller side
// (choose_power_operator). randomized_svd.cpp.
SvdFactors randomized_svd(const ShardedMatrix& a, const RsvdOptions& opts);

// The randomized engine with its power steps on the Gram G of the smaller side:
// G^(q+1) Omega orthonormalised at every step, Rayleigh-Ritz on Q^T G Q, the
// other factor by one GEMM. The products with G are split by rows over a.group.
// gram_eigen_svd.cpp (it shares the Gram and the factor step).
SvdFactors gram_subspace_svd(const ShardedMatrix& a, const RsvdOptions& opts);

// Exact: eigen-decomposition (f64) of the Gram of the smaller side (the
// unsplit side when A is split, so the Gram is one all-reduce); rank `k`, or in
// energy mode (energy > 0) the smallest k reaching energy * frobenius_sq.
// `solver` picks the eigen-solve (svd_options.h); `used` (optional) reports the
// one that ran. gram_eigen_svd.cpp.
SvdFactors gram_eigen_svd(const ShardedMatrix& a, int64_t k, double energy, double frobenius_sq,
                          GramSolver solver = GramSolver::kAuto, GramSolver* used = nullptr);

// Smallest k with sum_{i<=k} s_i^2 >= tau * total_sq (s descending, f64); the
// number of singular values given when the threshold is never reached.
int64_t energy_rank(const at::Tensor& s, double total_sq, double tau);

// Flips each pair (u_i, v_i) so that the entry of largest magnitude of u_i is
// positive (the first such entry in global row order on ties). Needs one small
// all-gather when U's rows are split. sign_canonical.cpp.
void canonicalize_signs(const ShardedMatrix& a, at::Tensor& u, at::Tensor& v);

// Every rank of `group` ends with rank 0's tensor (no-op for nullptr), so
// replicated small factors are bitwise identical everywhere.
void replicate_from_root(sharding::Communicator* group, at::Tensor& t);

}  // namespace revive::spectral
