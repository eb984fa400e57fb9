#include "lib/spectral/engine_cost.h"

#include <algorithm>

namespace revive::spectral {

const char* to_string(SvdEngine e) {
  switch (e) {
    case SvdEngine::kAuto: return "auto";
    case SvdEngine::kRandomized: return "randomized";
    case SvdEngine::kGramEigen: return "gram_eigen";
  }
  return "?";
}

const char* to_string(GramSolver s) {
  switch (s) {
    case GramSolver::kAuto: return "auto";
    case GramSolver::kFull: return "full";
    case GramSolver::kTopK: return "top_k";
  }
  return "?";
}

const char* to_string(PowerOperator p) {
  switch (p) {
    case PowerOperator::kAuto: return "auto";
    case PowerOperator::kMatrix: return "matrix";
    case PowerOperator::kGram: return "gram";
  }
  return "?";
}

int64_t sketch_width(int64_t rows, int64_t cols, const RsvdOptions& opts) {
  const int64_t k = std::max<int64_t>(opts.rank, 1);
  const int64_t p = opts.oversample < 0 ? std::max<int64_t>(10, k) : opts.oversample;
  return std::min(k + p, std::min(rows, cols));
}

PowerOperator choose_power_operator(int64_t rows, int64_t cols, const RsvdOptions& opts) {
  if (opts.power_operator != PowerOperator::kAuto) return opts.power_operator;
  const int64_t passes = 2 * std::max(opts.power_iters, 0) + 3;
  return std::min(rows, cols) <= passes * sketch_width(rows, cols, opts) ? PowerOperator::kGram
                                                                         : PowerOperator::kMatrix;
}

EngineCost estimate_cost(int64_t rows, int64_t cols, const RsvdOptions& opts) {
  const double m = static_cast<double>(rows), n = static_cast<double>(cols);
  const double small = std::min(m, n);
  const double k = static_cast<double>(std::max<int64_t>(opts.rank, 1));
  const double l = static_cast<double>(sketch_width(rows, cols, opts));
  const double q = std::max(opts.power_iters, 0);
  EngineCost c;
  // 2q + 3 products with A or A^T; 2q + 3 CholeskyQR2 (two passes of Gram + solve, 3 N l^2 each).
  c.randomized = (2 * q + 3) * 2 * m * n * l + (2 * q + 3) * 2 * 3 * std::max(m, n) * l * l;
  if (choose_power_operator(rows, cols, opts) == PowerOperator::kGram) {
    // Gram once, q + 2 products with it and q + 1 QRs (counted at twice a GEMM flop, as in f64;
    // they run in A's compute dtype, so this overstates f32 inputs), V by one GEMM.
    c.randomized = 2 * m * n * small + (q + 2) * 2 * 2 * small * small * l + (q + 1) * 2 * 4 * small * l * l +
                   2 * m * n * k;
  }
  c.gram_eigen = 2 * m * n * small + kEighGemmEquivalent * small * small * small + 2 * m * n * k;
  return c;
}

SvdEngine choose_engine(int64_t rows, int64_t cols, const SvdOptions& opts) {
  if (opts.engine != SvdEngine::kAuto) return opts.engine;
  if (opts.energy > 0) return SvdEngine::kGramEigen;
  const EngineCost c = estimate_cost(rows, cols, opts.rsvd);
  return c.randomized < c.gram_eigen ? SvdEngine::kRandomized : SvdEngine::kGramEigen;
}

}  // namespace revive::spectral
