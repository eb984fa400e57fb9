#include "lib/spectral/cuda/cusolver_svd.h"

#include <cusolverDn.h>

#include <vector>

#include "lib/spectral/cuda/cusolver_check.h"

namespace revive::spectral::cuda {

const char* cusolver_status_string(cusolverStatus_t s) {
  switch (s) {
    case CUSOLVER_STATUS_SUCCESS: return "CUSOLVER_STATUS_SUCCESS";
    case CUSOLVER_STATUS_NOT_INITIALIZED: return "CUSOLVER_STATUS_NOT_INITIALIZED";
    case CUSOLVER_STATUS_ALLOC_FAILED: return "CUSOLVER_STATUS_ALLOC_FAILED";
    case CUSOLVER_STATUS_INVALID_VALUE: return "CUSOLVER_STATUS_INVALID_VALUE";
    case CUSOLVER_STATUS_ARCH_MISMATCH: return "CUSOLVER_STATUS_ARCH_MISMATCH";
    case CUSOLVER_STATUS_EXECUTION_FAILED: return "CUSOLVER_STATUS_EXECUTION_FAILED";
    case CUSOLVER_STATUS_INTERNAL_ERROR: return "CUSOLVER_STATUS_INTERNAL_ERROR";
    case CUSOLVER_STATUS_NOT_SUPPORTED: return "CUSOLVER_STATUS_NOT_SUPPORTED";
    default: return "cusolverStatus_t (other)";
  }
}

struct CusolverSession::Impl {
  cusolverDnHandle_t handle = nullptr;
  cusolverDnParams_t params = nullptr;
  cudaStream_t stream = nullptr;
};

CusolverSession::CusolverSession(cudaStream_t stream) : impl_(std::make_unique<Impl>()) {
  impl_->stream = stream;
  REVIVE_CUSOLVER_CHECK(cusolverDnCreate(&impl_->handle));
  REVIVE_CUSOLVER_CHECK(cusolverDnSetStream(impl_->handle, stream));
  REVIVE_CUSOLVER_CHECK(cusolverDnCreateParams(&impl_->params));
}

CusolverSession::~CusolverSession() {
  if (impl_->params) cusolverDnDestroyParams(impl_->params);
  if (impl_->handle) cusolverDnDestroy(impl_->handle);
}

cudaStream_t CusolverSession::stream() const { return impl_->stream; }

namespace {

// Device + host workspaces of one cuSOLVER call, freed on every path.
class Workspace {
 public:
  Workspace(size_t device_bytes, size_t host_bytes) : host_(host_bytes) {
    REVIVE_CUDA_CHECK(cudaMalloc(reinterpret_cast<void**>(&info_), sizeof(int)));
    if (device_bytes > 0) REVIVE_CUDA_CHECK(cudaMalloc(&device_, device_bytes));
  }
  ~Workspace() {
    if (device_) cudaFree(device_);
    if (info_) cudaFree(info_);
  }
  void* device() { return device_; }
  void* host() { return host_.empty() ? nullptr : host_.data(); }
  int* info() { return info_; }
  // Waits for the stream and throws when cuSOLVER reported a numerical failure.
  void check_info(cudaStream_t stream, const char* what) {
    int h = 0;
    REVIVE_CUDA_CHECK(cudaMemcpyAsync(&h, info_, sizeof h, cudaMemcpyDeviceToHost, stream));
    REVIVE_CUDA_CHECK(cudaStreamSynchronize(stream));
    if (h != 0) throw Error(std::string(what) + ": info = " + std::to_string(h));
  }

 private:
  void* device_ = nullptr;
  int* info_ = nullptr;
  std::vector<char> host_;
};

void check_dtype(cudaDataType dtype) {
  if (dtype != CUDA_R_32F && dtype != CUDA_R_64F) throw Error("cuSOLVER SVD: dtype must be CUDA_R_32F or CUDA_R_64F");
}

}  // namespace

void randomized_svd(CusolverSession& session, cudaDataType dtype, int64_t m, int64_t n, int64_t k, int64_t p,
                    int64_t power_iters, void* a, int64_t lda, void* s, void* u, int64_t ldu, void* v, int64_t ldv) {
  check_dtype(dtype);
  REVIVE_CHECK(k >= 1 && k + p <= std::min(m, n), "cusolverDnXgesvdr needs 1 <= k and k + p <= min(m, n)");
  auto& impl = session.impl();
  size_t device_bytes = 0, host_bytes = 0;
  REVIVE_CUSOLVER_CHECK(cusolverDnXgesvdr_bufferSize(impl.handle, impl.params, 'S', 'S', m, n, k, p, power_iters,
                                                     dtype, a, lda, dtype, s, dtype, u, ldu, dtype, v, ldv, dtype,
                                                     &device_bytes, &host_bytes));
  Workspace ws(device_bytes, host_bytes);
  REVIVE_CUSOLVER_CHECK(cusolverDnXgesvdr(impl.handle, impl.params, 'S', 'S', m, n, k, p, power_iters, dtype, a, lda,
                                          dtype, s, dtype, u, ldu, dtype, v, ldv, dtype, ws.device(), device_bytes,
                                          ws.host(), host_bytes, ws.info()));
  ws.check_info(impl.stream, "cusolverDnXgesvdr");
}

void top_eigenpairs(CusolverSession& session, cudaDataType dtype, int64_t n, int64_t k, void* a, int64_t lda,
                    void* w) {
  check_dtype(dtype);
  REVIVE_CHECK(k >= 1 && k <= n, "top_eigenpairs: k outside [1, n]");
  auto& impl = session.impl();
  // Index range [n - k + 1, n] (1-based, ascending order): the k largest.
  const int64_t il = n - k + 1, iu = n;
  double vl = 0, vu = 0;  // unused for an index range (type matches f64; f32 reads only when range is by value)
  float vlf = 0, vuf = 0;
  void* pvl = dtype == CUDA_R_64F ? static_cast<void*>(&vl) : static_cast<void*>(&vlf);
  void* pvu = dtype == CUDA_R_64F ? static_cast<void*>(&vu) : static_cast<void*>(&vuf);
  int64_t found = 0;
  size_t device_bytes = 0, host_bytes = 0;
  REVIVE_CUSOLVER_CHECK(cusolverDnXsyevdx_bufferSize(impl.handle, impl.params, CUSOLVER_EIG_MODE_VECTOR,
                                                     CUSOLVER_EIG_RANGE_I, CUBLAS_FILL_MODE_LOWER, n, dtype, a, lda,
                                                     pvl, pvu, il, iu, &found, dtype, w, dtype, &device_bytes,
                                                     &host_bytes));
  Workspace ws(device_bytes, host_bytes);
  REVIVE_CUSOLVER_CHECK(cusolverDnXsyevdx(impl.handle, impl.params, CUSOLVER_EIG_MODE_VECTOR, CUSOLVER_EIG_RANGE_I,
                                          CUBLAS_FILL_MODE_LOWER, n, dtype, a, lda, pvl, pvu, il, iu, &found, dtype,
                                          w, dtype, ws.device(), device_bytes, ws.host(), host_bytes, ws.info()));
  ws.check_info(impl.stream, "cusolverDnXsyevdx");
  if (found != k) throw Error("cusolverDnXsyevdx returned " + std::to_string(found) + " eigenpairs, wanted " +
                              std::to_string(k));
}

int device_count() {
  int n = 0;
  if (cudaGetDeviceCount(&n) != cudaSuccess) {
    cudaGetLastError();  // clear the sticky "no driver" error
    return 0;
  }
  return n;
}

}  // namespace revive::spectral::cuda
