#pragma once
// GPU building blocks of the SVD engines where LibTorch has no equivalent
// (DESIGN.md section 5): cuSOLVER's randomized SVD (cusolverDnXgesvdr) and the
// top-k eigenpairs of a symmetric matrix (cusolverDnXsyevdx with an index
// range), the Gram-eigen engine's solve. They work on raw device pointers in
// column-major (LAPACK) order and run on the given stream, so they build with a
// CPU-only LibTorch; only an adapter taking LibTorch's current stream needs a
// CUDA LibTorch.
#include <cuda_runtime_api.h>
#include <library_types.h>

#include <cstdint>
#include <memory>

namespace revive::spectral::cuda {

// A cuSOLVER handle bound to one stream (and its params object).
class CusolverSession {
 public:
  explicit CusolverSession(cudaStream_t stream);
  ~CusolverSession();
  CusolverSession(const CusolverSession&) = delete;
  CusolverSession& operator=(const CusolverSession&) = delete;
  cudaStream_t stream() const;

  struct Impl;
  Impl& impl() { return *impl_; }

 private:
  std::unique_ptr<Impl> impl_;
};

// Top-k SVD of the m x n column-major device matrix `a` (lda >= m; overwritten)
// by cusolverDnXgesvdr: oversampling p, `power_iters` power steps. Writes k
// singular values to `s`, U (m x k, ldu) and V (n x k, ldv), all on the device.
// dtype: CUDA_R_32F or CUDA_R_64F for every array. Blocks until done.
void randomized_svd(CusolverSession& session, cudaDataType dtype, int64_t m, int64_t n, int64_t k, int64_t p,
                    int64_t power_iters, void* a, int64_t lda, void* s, void* u, int64_t ldu, void* v, int64_t ldv);

// The k largest eigenpairs of the symmetric n x n column-major device matrix
// `a` (lower triangle read; overwritten). On return the first k columns of `a`
// hold the eigenvectors and `w` (n entries of room) the eigenvalues, ascending
// (reverse both for descending order). cusolverDnXsyevdx, range by index.
void top_eigenpairs(CusolverSession& session, cudaDataType dtype, int64_t n, int64_t k, void* a, int64_t lda,
                    void* w);

// Number of CUDA devices visible (0 without a driver or a device).
int device_count();

}  // namespace revive::spectral::cuda
