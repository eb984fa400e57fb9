#pragma once
// splitmix64: a tiny generator with the same sequence on every platform, and a
// bias-free bounded draw and Fisher-Yates shuffle on top (no std::
// distributions, whose results vary by standard library). The generated toy
// worlds depend on these sequences, so they are fixed.
#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

namespace revive::data {

class SplitMixRng {
 public:
  explicit SplitMixRng(uint64_t seed) : state_(seed) {}
  uint64_t next() {
    uint64_t z = (state_ += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  // Uniform in [0, n) by rejection (no modulo bias).
  std::size_t below(std::size_t n) {
    const uint64_t limit = UINT64_MAX - UINT64_MAX % n;
    uint64_t x;
    do {
      x = next();
    } while (x >= limit);
    return static_cast<std::size_t>(x % n);
  }
  template <typename T>
  void shuffle(std::vector<T>& v) {
    for (std::size_t i = v.size(); i > 1; --i) std::swap(v[i - 1], v[below(i)]);
  }

 private:
  uint64_t state_;
};

}  // namespace revive::data
