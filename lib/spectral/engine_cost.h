#pragma once
// Cost model choosing the SVD engine: estimated work of each engine in units
// of GEMM flops (the eigen-solve counted at its measured cost relative to a
// GEMM). On a 4096 x 14336 matrix with an LLM-like spectrum: k = 5% of the rank
// favours the randomized engine, k ~ 40% (energy 0.5) the Gram route.
#include <cstdint>

#include "lib/spectral/svd_options.h"

namespace revive::spectral {

struct EngineCost {
  double randomized = 0;  // (2q + 3) sketches of 2 m n l + CholeskyQR2 passes, or the Gram route
  double gram_eigen = 0;  // Gram 2 m n s + eigh ~ kEighGemmEquivalent s^3 + factor 2 m n k
};

// Cost of f64 eigh of an s x s matrix in GEMM-flop equivalents per s^3 (7.5 s
// for s = 4096 against 210 GFLOP/s GEMMs on the development machine).
inline constexpr double kEighGemmEquivalent = 23.0;

EngineCost estimate_cost(int64_t rows, int64_t cols, const RsvdOptions& opts);

// l = k + p columns of the sketch (p = max(10, k) when opts.oversample < 0),
// at most min(rows, cols): the one rule for both engines' sketches.
int64_t sketch_width(int64_t rows, int64_t cols, const RsvdOptions& opts);

// kAuto resolved for a rows x cols matrix (svd_options.h); a forced operator is
// returned unchanged.
PowerOperator choose_power_operator(int64_t rows, int64_t cols, const RsvdOptions& opts);

// kAuto resolved: kGramEigen in energy mode or when cheaper, else kRandomized.
// A forced engine is returned unchanged.
SvdEngine choose_engine(int64_t rows, int64_t cols, const SvdOptions& opts);

}  // namespace revive::spectral
