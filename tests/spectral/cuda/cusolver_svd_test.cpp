// cuSOLVER paths against the exact SVD; skipped without a GPU.
#include "lib/spectral/cuda/cusolver_svd.h"

#include <gtest/gtest.h>

#include <ATen/ATen.h>

#include "lib/spectral/cuda/cusolver_check.h"
#include "tests/spectral/spectral_fixtures.h"

namespace revive::spectral::cuda {
namespace {

// A host f64 tensor copied to the device in column-major order, and back.
class DeviceMatrix {
 public:
  explicit DeviceMatrix(const at::Tensor& host) : rows_(host.size(0)), cols_(host.dim() > 1 ? host.size(1) : 1) {
    const at::Tensor cm = host.dim() > 1 ? host.t().contiguous() : host.contiguous();
    REVIVE_CUDA_CHECK(cudaMalloc(&ptr_, cm.numel() * sizeof(double)));
    REVIVE_CUDA_CHECK(cudaMemcpy(ptr_, cm.data_ptr<double>(), cm.numel() * sizeof(double), cudaMemcpyHostToDevice));
  }
  ~DeviceMatrix() { cudaFree(ptr_); }
  void* get() { return ptr_; }
  at::Tensor to_host(int64_t rows, int64_t cols) const {
    at::Tensor cm = at::empty({cols, rows}, at::kDouble);
    REVIVE_CUDA_CHECK(cudaMemcpy(cm.data_ptr<double>(), ptr_, cm.numel() * sizeof(double), cudaMemcpyDeviceToHost));
    return cm.t().contiguous();
  }

 private:
  int64_t rows_, cols_;
  void* ptr_ = nullptr;
};

class CusolverSvd : public ::testing::Test {
 protected:
  void SetUp() override {
    if (device_count() == 0) GTEST_SKIP() << "no CUDA device: cuSOLVER paths not exercised";
  }
};

TEST_F(CusolverSvd, RandomizedMatchesExactOnFastDecay) {
  const int64_t m = 300, n = 200, k = 10;
  const at::Tensor s_true = testing::singular_values(testing::Spectrum::kFastDecay, n);
  const at::Tensor a = testing::matrix_with_spectrum(m, n, s_true, 3);
  DeviceMatrix da(a), ds(at::zeros({k}, at::kDouble)), du(at::zeros({m, k}, at::kDouble)),
      dv(at::zeros({n, k}, at::kDouble));
  CusolverSession session(nullptr);
  randomized_svd(session, CUDA_R_64F, m, n, k, 10, 4, da.get(), m, ds.get(), du.get(), m, dv.get(), n);
  const at::Tensor s = ds.to_host(k, 1).reshape({k});
  EXPECT_LT(testing::rel_diff(s, s_true.narrow(0, 0, k)), 1e-8);
  EXPECT_NEAR(testing::captured_energy(a, du.to_host(m, k), s_true), 1.0, 1e-8);
}

TEST_F(CusolverSvd, TopEigenpairsOfAGram) {
  const int64_t m = 120, n = 260, k = 15;
  const at::Tensor s_true = testing::singular_values(testing::Spectrum::kSlowDecay, m);
  const at::Tensor a = testing::matrix_with_spectrum(m, n, s_true, 4);
  DeviceMatrix dg(at::matmul(a, a.t())), dw(at::zeros({m}, at::kDouble));
  CusolverSession session(nullptr);
  top_eigenpairs(session, CUDA_R_64F, m, k, dg.get(), m, dw.get());
  const at::Tensor w = dw.to_host(m, 1).reshape({m}).narrow(0, 0, k).flip(0);
  EXPECT_LT(testing::rel_diff(w.sqrt(), s_true.narrow(0, 0, k)), 1e-10);
  const at::Tensor e = dg.to_host(m, m).narrow(1, 0, k);
  EXPECT_NEAR(testing::captured_energy(a, e, s_true), 1.0, 1e-10);
}

}  // namespace
}  // namespace revive::spectral::cuda
