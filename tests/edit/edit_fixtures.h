#pragma once
// Small known problems for the editor tests: seeded random matrices and key
// statistics with a chosen spectrum, plus a scale-invariant error measure.
#include <ATen/ATen.h>

#include <cstdint>
#include <vector>

namespace revive::edit::testing {

inline at::Tensor randn(std::vector<int64_t> shape, uint64_t seed) {
  auto g = at::make_generator<at::CPUGeneratorImpl>(seed);
  return at::randn(shape, g, at::TensorOptions().dtype(at::kDouble));
}

inline at::Tensor random_orthogonal(int64_t d, uint64_t seed) {
  return std::get<0>(at::linalg_qr(randn({d, d}, seed)));
}

// Q diag(evals) Q^T and Q (columns = eigenvectors in the order of evals).
struct Spectrum {
  at::Tensor c;
  at::Tensor q;
};
inline Spectrum with_spectrum(const std::vector<double>& evals, uint64_t seed) {
  const int64_t d = static_cast<int64_t>(evals.size());
  const at::Tensor q = random_orthogonal(d, seed);
  const at::Tensor lam = at::tensor(evals, at::kDouble);
  at::Tensor c = at::matmul(q * lam.unsqueeze(0), q.t());
  return {(c + c.t()) * 0.5, q};
}

// ||a - b||_F / max(||b||_F, tiny).
inline double rel_err(const at::Tensor& a, const at::Tensor& b) {
  const double nb = b.to(at::kDouble).norm().item<double>();
  return (a.to(at::kDouble) - b.to(at::kDouble)).norm().item<double>() / (nb > 0 ? nb : 1e-300);
}

}  // namespace revive::edit::testing
