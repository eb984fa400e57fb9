#pragma once
// Test matrices with prescribed spectra and the exact references the spectral
// tests judge against (header-only, shared by the unit and MPI suites).
#include <ATen/ATen.h>

#include <cmath>
#include <string>

#include "lib/spectral/sketch_matrix.h"

namespace revive::spectral::testing {

enum class Spectrum { kFastDecay, kSlowDecay, kFlat, kRepeated };

inline const char* name(Spectrum s) {
  switch (s) {
    case Spectrum::kFastDecay: return "fast_decay";
    case Spectrum::kSlowDecay: return "slow_decay";
    case Spectrum::kFlat: return "flat";
    case Spectrum::kRepeated: return "repeated";
  }
  return "?";
}

// r singular values, descending.
inline at::Tensor singular_values(Spectrum kind, int64_t r) {
  at::Tensor i = at::arange(r, at::kDouble);
  switch (kind) {
    case Spectrum::kFastDecay: return at::exp(-i / 6.0);              // geometric, ratio 0.85
    case Spectrum::kSlowDecay: return at::pow(1.0 + i, -0.35) * 10.0;  // LLM-like power law
    case Spectrum::kFlat: return at::ones({r}, at::kDouble) * 2.0;
    case Spectrum::kRepeated: return 4.0 * at::pow(0.7, at::floor(i / 5.0));  // blocks of 5 equal values
  }
  return {};
}

// Random orthonormal m x r (deterministic in seed).
inline at::Tensor random_orthonormal(int64_t m, int64_t r, uint64_t seed) {
  auto qr = at::linalg_qr(revive::spectral::gaussian_sketch_rows(seed, 0, m, r));
  return std::get<0>(qr);
}

// A = Q1 diag(s) Q2^T, m x n (f64), s of length min(m, n).
inline at::Tensor matrix_with_spectrum(int64_t m, int64_t n, const at::Tensor& s, uint64_t seed) {
  const int64_t r = s.numel();
  return at::matmul(random_orthonormal(m, r, seed) * s.unsqueeze(0), random_orthonormal(n, r, seed + 1).t());
}

// ||U^T A||_F^2 / sum_{i<=k} s_i^2: energy the basis captures relative to the optimum.
inline double captured_energy(const at::Tensor& a, const at::Tensor& u, const at::Tensor& s_exact) {
  const int64_t k = u.size(1);
  const double got = at::matmul(u.t().to(at::kDouble), a.to(at::kDouble)).square().sum().item<double>();
  return got / s_exact.narrow(0, 0, k).square().sum().item<double>();
}

// sum_i s_i^2 ||U_est^T u_i||^2 / sum_i s_i^2 over the exact top-k (u_i, s_i).
inline double energy_weighted_similarity(const at::Tensor& u_exact, const at::Tensor& s_exact,
                                         const at::Tensor& u_est) {
  const int64_t k = u_est.size(1);
  at::Tensor w = s_exact.narrow(0, 0, k).square();
  at::Tensor proj = at::matmul(u_est.t().to(at::kDouble), u_exact.narrow(1, 0, k).to(at::kDouble)).square().sum(0);
  return (w * proj).sum().item<double>() / w.sum().item<double>();
}

// max |a - b| / max |b|
inline double rel_diff(const at::Tensor& a, const at::Tensor& b) {
  return (a.to(at::kDouble) - b.to(at::kDouble)).abs().max().item<double>() /
         b.to(at::kDouble).abs().max().item<double>();
}

}  // namespace revive::spectral::testing
