#pragma once
// CholeskyQR2 in f64: orthonormalises a tall-skinny matrix A (N x l, N >> l)
// whose rows may be split over a group. Each pass needs only the l x l Gram
// A^T A, summed with one all-reduce, so the communication is independent of N.
//
//   pass:  G = A^T A,  R = chol(G)^T,  Q = A R^{-1}
// One pass loses orthogonality like cond(A)^2 * eps; the second pass, on an
// almost orthonormal Q, restores it to O(eps) (Fukaya et al. 2014) as long as
// cond(A) < ~1e8. When the first Cholesky fails (cond(A) beyond that), a
// shifted pass (Fukaya et al. 2020, shifted CholeskyQR3) makes the matrix well
// conditioned first. A numerically rank-deficient A falls back to an
// eigen-decomposition pass whose null directions become zero columns of Q.
//
// Every rank computes the same small factors from the same reduced Gram, so R is
// replicated and each rank gets its own rows of Q.
#include <ATen/core/Tensor.h>

#include "sharding/comm/communicator.h"

namespace revive::spectral {

struct QrFactors {
  at::Tensor q;  // this rank's rows of Q (f64), A = Q R
  at::Tensor r;  // l x l (f64), replicated; upper triangular unless a fallback ran
};

// `rows_group`: the group A's rows are split over (nullptr: A is whole here).
// `global_rows`: total rows of A over the group (for the shift; -1: sum it).
QrFactors cholesky_qr2(const at::Tensor& a_local, sharding::Communicator* rows_group = nullptr,
                       int64_t global_rows = -1);

}  // namespace revive::spectral
