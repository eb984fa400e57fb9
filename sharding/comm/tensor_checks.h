#pragma once
// Argument checks shared by every backend, so each rejects bad tensors with the
// same clear CommError before any communication starts.
#include "sharding/comm/communicator.h"

namespace revive::sharding {

// Throws CommError unless `t` is contiguous, on the communicator's device and of
// a supported dtype (f32, f64, bf16, f16, i64).
void check_collective_tensor(const Communicator& comm, const char* op, const at::Tensor& t);

// bf16 and f16: reduced in f32 by every backend.
inline bool is_half_precision(at::ScalarType t) { return t == at::kBFloat16 || t == at::kHalf; }

// Row counts of a reduce_scatter: opts.counts if given (validated), else the
// balanced split of n.
std::vector<int64_t> reduce_scatter_counts(const Communicator& comm, int64_t n,
                                           const std::vector<int64_t>& counts);

}  // namespace revive::sharding
