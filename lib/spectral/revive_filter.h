#pragma once
// ReviveFilter: removes from an editor's update every component on a protected
// singular direction of the original weight (DESIGN.md section 1):
//
//     dW_safe = (I - U_k U_k^T) dW (I - V_k V_k^T)
//
// Works on this rank's shard of dW, laid out like the weight the basis was made
// for. Row-parallel weight (columns split): U_k^T dW_i is local and
// dW V_k = sum_i dW_i V_k,i is one all-reduce of m x k; column-parallel: the
// mirror image. A factored update dW = R X^T stays factored:
//     R_safe = (I - U_k U_k^T) R,   X_safe = (I - V_k V_k^T) X,
// with one k x n all-reduce on the split side; nothing m x n is communicated.
// Collective over basis.reduce_group() whenever the weight is split.
//
// Which coefficients of dW in the basis u_i v_j^T are removed (i, j <= k are
// protected directions) is the filter's ProtectedSides:
//   kBoth    every coefficient with i <= k OR j <= k (the paper's filter);
//   kOutput  i <= k: (I - U_k U_k^T) dW, the protected output directions;
//   kInput   j <= k: dW (I - V_k V_k^T), the protected input directions;
//   kBlock   i <= k AND j <= k: dW - U_k U_k^T dW V_k V_k^T (the protected
//            block only; a factored update doubles its rank).
// The variants exist to measure which part of the paper's filter protects and
// which part costs the edit (issue 22); kBoth is the paper's method.
#include <ATen/core/Tensor.h>

#include <string>

#include "lib/spectral/protected_basis.h"

namespace revive::spectral {

// dW = r x^T. r: m x n rows laid out like the weight's rows (split for a
// column-parallel weight), x: d_in x n laid out like the weight's columns.
struct FactoredUpdate {
  at::Tensor r;
  at::Tensor x;
};

enum class ProtectedSides { kBoth, kOutput, kInput, kBlock };
// "both", "output", "input", "block".
const char* to_string(ProtectedSides s);

class ReviveFilter {
 public:
  // Keeps a reference: the basis must outlive the filter.
  explicit ReviveFilter(const ProtectedBasis& basis, ProtectedSides sides = ProtectedSides::kBoth);

  // The filtered shard, in dw_local's dtype (computed in f32 for half types).
  at::Tensor apply(const at::Tensor& dw_local) const;
  FactoredUpdate apply(const FactoredUpdate& update) const;

  const ProtectedBasis& basis() const { return basis_; }
  ProtectedSides sides() const { return sides_; }

 private:
  // x - F (F^T x) for a factor F laid out like x's rows; F^T x summed over `group`.
  at::Tensor project_out(const at::Tensor& factor_local, const at::Tensor& x_local,
                         sharding::Communicator* group) const;
  sharding::Communicator* row_group() const;
  sharding::Communicator* col_group() const;

  const ProtectedBasis& basis_;
  ProtectedSides sides_;
};

}  // namespace revive::spectral
