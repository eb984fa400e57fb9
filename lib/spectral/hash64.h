#pragma once
// splitmix64 finaliser: a bijective 64-bit mix with good avalanche, so
// consecutive counters give independent-looking outputs. The counter-based
// generator of Omega and the weight checksum are built on it.
#include <cstdint>

namespace revive::spectral {

inline uint64_t mix64(uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

}  // namespace revive::spectral
