#include "lib/spectral/cuda/cusolver_tensors.h"

#include <ATen/ATen.h>

#include "lib/spectral/cuda/cusolver_svd.h"
#include "revive/config.h"
#include "sharding/errors.h"

#if REVIVE_TORCH_HAS_CUDA
#include <ATen/cuda/CUDAContext.h>
#endif

namespace revive::spectral::cuda {
namespace {

cudaStream_t current_stream() {
#if REVIVE_TORCH_HAS_CUDA
  return at::cuda::getCurrentCUDAStream().stream();
#else
  return nullptr;  // the legacy default stream, which LibTorch uses unless told otherwise
#endif
}

}  // namespace

std::pair<at::Tensor, at::Tensor> top_eigenpairs(const at::Tensor& sym, int64_t k) {
  REVIVE_CHECK(sym.is_cuda(), "cuda::top_eigenpairs: the matrix must be a CUDA tensor");
  REVIVE_CHECK(sym.dim() == 2 && sym.size(0) == sym.size(1), "cuda::top_eigenpairs: the matrix must be square");
  const at::ScalarType dt = sym.scalar_type();
  REVIVE_CHECK(dt == at::kFloat || dt == at::kDouble, "cuda::top_eigenpairs: f32 or f64 only");
  const int64_t n = sym.size(0);
  // Row-major storage of a symmetric matrix is its column-major storage; the
  // solver overwrites it, so work on a copy.
  at::Tensor a = sym.contiguous().clone();
  at::Tensor w = at::empty({n}, sym.options());
  CusolverSession session(current_stream());
  top_eigenpairs(session, dt == at::kDouble ? CUDA_R_64F : CUDA_R_32F, n, k, a.data_ptr(), n, w.data_ptr());
  // Column j of the column-major result is row j of `a`; both come ascending.
  at::Tensor values = w.narrow(0, 0, k).flip(0);
  at::Tensor vectors = a.narrow(0, 0, k).flip(0).t().contiguous();
  return {values, vectors};
}

}  // namespace revive::spectral::cuda
