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

EngineCost estimate_cost(int64_t rows, int64_t cols, const RsvdOptions& opts) {
  const double m = static_cast<double>(rows), n = static_cast<double>(cols);
  const double small = std::min(m, n);
  const double k = static_cast<double>(std::max<int64_t>(opts.rank, 1));
  const double p = opts.oversample < 0 ? std::max(10.0, k) : static_cast<double>(opts.oversample);
  const double l = std::min(k + p, small);
  const double q = std::max(opts.power_iters, 0);
  EngineCost c;
  // 2q + 3 products with A or A^T; 2q + 3 CholeskyQR2 (two passes of Gram + solve, 3 N l^2 each).
  c.randomized = (2 * q + 3) * 2 * m * n * l + (2 * q + 3) * 2 * 3 * std::max(m, n) * l * l;
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
