#pragma once
// REVIVE_CUSOLVER_CHECK / REVIVE_CUDA_CHECK: one check macro per C library
// (STYLE.md 5). A failed call throws revive::Error naming the call, the status
// code and file:line.
#include <cuda_runtime_api.h>
#include <cusolverDn.h>

#include <string>

#include "sharding/errors.h"

namespace revive::spectral::cuda {

const char* cusolver_status_string(cusolverStatus_t s);

}  // namespace revive::spectral::cuda

#define REVIVE_CUSOLVER_CHECK(call)                                                                  \
  do {                                                                                               \
    const cusolverStatus_t revive_status_ = (call);                                                  \
    if (revive_status_ != CUSOLVER_STATUS_SUCCESS) {                                                 \
      throw ::revive::Error(std::string("cuSOLVER ") + #call + ": " +                                \
                            ::revive::spectral::cuda::cusolver_status_string(revive_status_) +        \
                            " (" REVIVE_WHERE ")");                                                  \
    }                                                                                                \
  } while (0)

#define REVIVE_CUDA_CHECK(call)                                                                      \
  do {                                                                                               \
    const cudaError_t revive_err_ = (call);                                                          \
    if (revive_err_ != cudaSuccess) {                                                                \
      throw ::revive::Error(std::string("CUDA ") + #call + ": " + cudaGetErrorString(revive_err_) + \
                            " (" REVIVE_WHERE ")");                                                  \
    }                                                                                                \
  } while (0)
