#pragma once
// The Gaussian test matrix Omega of the randomized SVD.
//
// Entry (i, j) is a pure function of (seed, global row i, column j): a
// counter-based hash (splitmix64) feeds a Box-Muller transform. A rank that owns
// rows [begin, begin+rows) of Omega generates exactly those rows, so the sketch
// A * Omega is the same for every shard layout and tensor-parallel size (up to
// the order of the reduction).
#include <ATen/core/Tensor.h>

#include <cstdint>

namespace revive::spectral {

// Rows [row_begin, row_begin + rows) of the (global) n x cols Gaussian matrix, in f64.
at::Tensor gaussian_sketch_rows(uint64_t seed, int64_t row_begin, int64_t rows, int64_t cols);

}  // namespace revive::spectral
