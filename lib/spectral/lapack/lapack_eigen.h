#pragma once
// The k largest eigenpairs of a symmetric matrix on the host, by LAPACK's
// pieces of dsyevr: Householder tridiagonalisation (dsytrd), all eigenvalues of
// the tridiagonal (dsterf, O(n^2)), eigenvectors of the chosen k only (dstemr,
// MRRR) and their back-transformation (dormtr). Against a full eigh (dsyevd),
// which also back-transforms all n vectors, this saves about half the time at
// k = 5% of n (measured: bench/rsvd, gram_eigen_top_k). LibTorch has no
// equivalent. Built only when CMake finds LAPACK (REVIVE_HAVE_LAPACK).
#include <ATen/core/Tensor.h>

#include <cstdint>
#include <functional>
#include <utility>

namespace revive::spectral::lapack {

// Chooses k from ALL eigenvalues (descending, f64 CPU tensor [n]) before any
// eigenvector is computed; energy mode uses it to pay for one reduction only.
using ChooseRank = std::function<int64_t(const at::Tensor& values_descending)>;

// Symmetric n x n f64 CPU tensor (only its lower triangle is read) ->
// (values descending [k], vectors [n, k]), both f64 CPU. The rank comes from
// `choose_rank` and must lie in [1, n]. LAPACK failures throw revive::Error
// naming the routine and its info code.
std::pair<at::Tensor, at::Tensor> top_eigenpairs(const at::Tensor& sym, const ChooseRank& choose_rank);

}  // namespace revive::spectral::lapack
