#include "lib/spectral/sketch_matrix.h"

#include <gtest/gtest.h>

#include <ATen/ATen.h>

namespace revive::spectral {
namespace {

TEST(SketchMatrix, RowsDependOnlyOnSeedAndGlobalIndex) {
  const at::Tensor full = gaussian_sketch_rows(42, 0, 50, 7);
  EXPECT_TRUE(at::equal(gaussian_sketch_rows(42, 13, 20, 7), full.narrow(0, 13, 20)));
  EXPECT_TRUE(at::equal(gaussian_sketch_rows(42, 0, 50, 7), full));
  EXPECT_FALSE(at::equal(gaussian_sketch_rows(43, 0, 50, 7), full));
}

TEST(SketchMatrix, IsStandardGaussian) {
  const at::Tensor g = gaussian_sketch_rows(1, 0, 400, 250);
  const double n = static_cast<double>(g.numel());
  EXPECT_NEAR(g.mean().item<double>(), 0.0, 5.0 / std::sqrt(n));
  EXPECT_NEAR(g.var().item<double>(), 1.0, 5.0 * std::sqrt(2.0 / n));
  // Fraction within one standard deviation: 0.6827 for a normal law.
  EXPECT_NEAR((g.abs() < 1.0).to(at::kDouble).mean().item<double>(), 0.6827, 0.01);
  // Columns are uncorrelated.
  const at::Tensor c = at::matmul(g.t(), g) / 400.0;
  EXPECT_LT((c - at::eye(250, c.options())).abs().max().item<double>(), 0.35);
}

}  // namespace
}  // namespace revive::spectral
