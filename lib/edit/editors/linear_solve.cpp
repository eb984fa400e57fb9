#include "lib/edit/editors/linear_solve.h"

#include <ATen/ATen.h>

#include "sharding/errors.h"

namespace revive::edit {
namespace {

void check_shapes(const at::Tensor& a, const at::Tensor& b, const std::string& what) {
  if (a.dim() != 2 || a.size(0) != a.size(1)) {
    throw Error(what + ": the operator must be square, got " + c10::str(a.sizes()));
  }
  if (b.dim() != 2 || b.size(0) != a.size(0)) {
    throw Error(what + ": right-hand side " + c10::str(b.sizes()) + " does not match the operator " +
                c10::str(a.sizes()));
  }
}

at::Tensor lu_solve(const at::Tensor& a64, const at::Tensor& b64, const std::string& what) {
  try {
    at::Tensor x = at::linalg_solve(a64, b64);
    if (!at::isfinite(x).all().item<bool>()) throw Error("non-finite solution");
    return x;
  } catch (const std::exception& e) {
    throw Error(what + ": the operator is singular (LU solve failed: " + std::string(e.what()).substr(0, 200) + ")");
  }
}

}  // namespace

const char* to_string(SolveMethod m) { return m == SolveMethod::kCholesky ? "cholesky" : "lu"; }

at::Tensor solve_symmetric(const at::Tensor& a, const at::Tensor& b, const std::string& what, SolveMethod* used) {
  check_shapes(a, b, what);
  const at::Tensor a64 = a.to(at::kDouble), b64 = b.to(a.device(), at::kDouble);
  at::Tensor l, info;
  std::tie(l, info) = at::linalg_cholesky_ex(a64, /*upper=*/false, /*check_errors=*/false);
  if (info.item<int64_t>() == 0) {
    if (used) *used = SolveMethod::kCholesky;
    return at::cholesky_solve(b64, l, /*upper=*/false);
  }
  // Not numerically SPD (e.g. a rank-deficient K K^T with a tiny regulariser):
  // LU still solves any non-singular system.
  if (used) *used = SolveMethod::kLu;
  return lu_solve(a64, b64, what);
}

at::Tensor solve_general(const at::Tensor& a, const at::Tensor& b, const std::string& what) {
  check_shapes(a, b, what);
  return lu_solve(a.to(at::kDouble), b.to(a.device(), at::kDouble), what);
}

}  // namespace revive::edit
