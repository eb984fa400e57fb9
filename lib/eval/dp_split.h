#pragma once
// How every evaluation splits its items over data-parallel ranks: rank r of a dp
// group of size n evaluates items r, r + n, r + 2n, ... (strided, so long and
// short items spread evenly), then the per-item rows or sums are all-reduced so
// every rank returns the same, complete result. A null communicator means one
// process evaluating everything.
#include <ATen/core/Tensor.h>

#include <cstddef>
#include <vector>

#include "sharding/comm/communicator_fwd.h"

namespace revive::eval {

class DpSplit {
 public:
  explicit DpSplit(sharding::Communicator* dp = nullptr);

  int rank() const { return rank_; }
  int size() const { return size_; }
  // True when this rank evaluates item `index`.
  bool owns(std::size_t index) const { return static_cast<int>(index % static_cast<std::size_t>(size_)) == rank_; }
  // The indices of [0, n) this rank evaluates, ascending.
  std::vector<std::size_t> mine(std::size_t n) const;

  // Sums `values` (f64 or i64, CPU) over the dp group in place; a no-op without one.
  void sum(at::Tensor& values) const;
  // Convenience: sums a vector of doubles over the group.
  std::vector<double> sum(const std::vector<double>& values) const;

 private:
  sharding::Communicator* dp_;
  int rank_ = 0;
  int size_ = 1;
};

}  // namespace revive::eval
