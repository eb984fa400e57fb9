#pragma once
// Options and results of REVIVE's truncated SVD (truncated_svd.h).
#include <ATen/core/Tensor.h>

#include <cstdint>

namespace revive::spectral {

// Two engines behind one call (DESIGN.md section 2):
//  kRandomized  sketch A*Omega, power steps with re-orthonormalisation; cheap for
//               small fixed k, approximate.
//  kGramEigen   f64 eigen-decomposition of the Gram matrix of the smaller (or the
//               unsharded) side, other factor by one GEMM; exact for any k.
//  kAuto        the cheaper one by the cost model (engine_cost.h); energy mode
//               always uses kGramEigen because it needs the whole spectrum.
enum class SvdEngine { kAuto, kRandomized, kGramEigen };
const char* to_string(SvdEngine e);

// The eigen-solve of the Gram-eigen engine:
//  kFull  LibTorch's eigh: every eigenpair, on CPU or GPU;
//  kTopK  the k largest pairs only: cuSOLVER's syevdx on CUDA tensors (REVIVE
//         built with CUDA), LAPACK's dsytrd + dstemr + dormtr on the host
//         (REVIVE built with LAPACK); in energy mode k comes from the
//         eigenvalues first (the tridiagonal's on the host, eigvalsh on CUDA);
//  kAuto  kTopK where it is built and k <= n / 2, except energy mode on CUDA
//         (its extra eigvalsh loses, bench/rsvd on an H100); else kFull.
enum class GramSolver { kAuto, kFull, kTopK };
const char* to_string(GramSolver s);

// Where the randomized engine's power steps run:
//  kMatrix  on A: Y = (A A^T)^q A Omega, two passes over A per step, each
//           re-orthonormalised (CholeskyQR2 on the tall sides);
//  kGram    on the Gram G of the smaller side, formed once (one all-reduce when
//           A is split): Y = G^(q+1) Omega, s^2 l per step, QR of s x l, then a
//           Rayleigh-Ritz step; V (or U) by one GEMM with A;
//  kAuto    kGram when forming G costs no more GEMM flops than the passes over
//           A (s <= (2q + 3) l): G is one large GEMM at the full matmul rate,
//           while the tall-skinny sketches ran at 79% of it (bench/rsvd).
enum class PowerOperator { kAuto, kMatrix, kGram };
const char* to_string(PowerOperator p);

struct RsvdOptions {
  int64_t rank = 0;         // k (fixed-k mode); ignored in energy mode
  int64_t oversample = -1;  // p; -1: p = max(10, k) (k = 5% of the rank needs p ~ k)
  int power_iters = 4;      // q power steps, each re-orthonormalised
  uint64_t seed = 0x5EED;   // Omega is a function of (seed, global index) only
  PowerOperator power_operator = PowerOperator::kAuto;
};

struct SvdOptions {
  RsvdOptions rsvd;
  // Energy mode when > 0: k = smallest k with sum_{i<=k} s_i^2 >= energy * ||A||_F^2.
  double energy = 0.0;
  SvdEngine engine = SvdEngine::kAuto;
  GramSolver gram_solver = GramSolver::kAuto;
};

// U S V^T with U: m x k, V: n x k, s descending (f64). Factors are in the compute
// dtype: the input's for f32/f64, f32 for half types. Sign-canonical: the entry of
// largest magnitude of each column of U is positive (first one on ties).
struct SvdResult {
  at::Tensor u;
  at::Tensor s;
  at::Tensor v;
  int64_t k = 0;
  double frobenius_sq = 0.0;  // ||A||_F^2, exact (f64 sum of squares)
  SvdEngine engine = SvdEngine::kAuto;  // the engine that ran
  GramSolver gram_solver = GramSolver::kAuto;  // the eigen-solve that ran (Gram-eigen only)
};

}  // namespace revive::spectral
