#pragma once
// LibTorch-tensor front ends of the cuSOLVER building blocks (cusolver_svd.h)
// for the engines: CUDA tensors in, CUDA tensors out, on LibTorch's current
// stream (its default stream when LibTorch has no CUDA headers to ask).
#include <ATen/core/Tensor.h>

#include <cstdint>
#include <utility>

namespace revive::spectral::cuda {

// The k largest eigenpairs of the symmetric n x n CUDA tensor `sym` (f32 or
// f64; only its lower triangle is read): (values descending [k], vectors
// [n, k]), in sym's dtype. cusolverDnXsyevdx with an index range.
std::pair<at::Tensor, at::Tensor> top_eigenpairs(const at::Tensor& sym, int64_t k);

}  // namespace revive::spectral::cuda
