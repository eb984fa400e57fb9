#include "lib/spectral/sketch_matrix.h"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>

#include <cmath>

#include "lib/spectral/hash64.h"

namespace revive::spectral {
namespace {

// Uniform in (0, 1]: 53 random bits, never 0 (log(0) in Box-Muller).
inline double to_unit(uint64_t x) { return (static_cast<double>(x >> 11) + 1.0) * 0x1.0p-53; }

}  // namespace

at::Tensor gaussian_sketch_rows(uint64_t seed, int64_t row_begin, int64_t rows, int64_t cols) {
  at::Tensor out = at::empty({rows, cols}, at::kDouble);
  double* data = out.data_ptr<double>();
  const uint64_t seed_key = mix64(seed ^ 0x5245564956453031ull);  // "REVIVE01"
  const double two_pi = 6.283185307179586476925286766559;
  at::parallel_for(0, rows, 16, [&](int64_t lo, int64_t hi) {
    for (int64_t r = lo; r < hi; ++r) {
      const uint64_t row_key = mix64(seed_key + static_cast<uint64_t>(row_begin + r));
      double* dst = data + r * cols;
      // One Box-Muller pair per two columns; the pair index is the counter.
      for (int64_t c = 0; c < cols; c += 2) {
        const uint64_t h = mix64(row_key ^ mix64(static_cast<uint64_t>(c / 2)));
        const double u1 = to_unit(h);
        const double u2 = to_unit(mix64(h));
        const double radius = std::sqrt(-2.0 * std::log(u1));
        dst[c] = radius * std::cos(two_pi * u2);
        if (c + 1 < cols) dst[c + 1] = radius * std::sin(two_pi * u2);
      }
    }
  });
  return out;
}

}  // namespace revive::spectral
