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

struct RsvdOptions {
  int64_t rank = 0;         // k (fixed-k mode); ignored in energy mode
  int64_t oversample = -1;  // p; -1: p = max(10, k) (k = 5% of the rank needs p ~ k)
  int power_iters = 4;      // q power steps, each re-orthonormalised
  uint64_t seed = 0x5EED;   // Omega is a function of (seed, global index) only
};

struct SvdOptions {
  RsvdOptions rsvd;
  // Energy mode when > 0: k = smallest k with sum_{i<=k} s_i^2 >= energy * ||A||_F^2.
  double energy = 0.0;
  SvdEngine engine = SvdEngine::kAuto;
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
};

}  // namespace revive::spectral
