#pragma once
// The small dense solves every editor needs, in f64 and never through an explicit
// inverse (MEMIT's own code solves too: torch.linalg.solve on
// mom2_update_weight * C + K K^T).
#include <ATen/core/Tensor.h>

#include <string>

namespace revive::edit {

enum class SolveMethod { kCholesky, kLu };
const char* to_string(SolveMethod m);

// X with A X = B for a symmetric A (d x d) and B (d x n), computed in f64 and
// returned in f64. Cholesky first; when A is not numerically positive definite
// (info != 0) it falls back to an LU solve. Throws revive::Error naming `what`
// when A is singular or not square, or the shapes disagree. `used` (optional)
// reports which factorisation ran.
at::Tensor solve_symmetric(const at::Tensor& a, const at::Tensor& b, const std::string& what,
                           SolveMethod* used = nullptr);

// X with A X = B for a general square A, LU in f64 (AlphaEdit's operator is not
// symmetric). Same errors as above.
at::Tensor solve_general(const at::Tensor& a, const at::Tensor& b, const std::string& what);

}  // namespace revive::edit
