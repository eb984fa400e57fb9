#include "sharding/comm/tensor_checks.h"

#include <ATen/ATen.h>

#include "sharding/errors.h"

namespace revive::sharding {

const char* to_string(ReduceOp op) {
  switch (op) {
    case ReduceOp::kSum: return "sum";
    case ReduceOp::kMax: return "max";
    case ReduceOp::kAvg: return "avg";
  }
  return "?";
}

Range shard_range(int64_t n, int part, int parts) {
  REVIVE_CHECK(parts > 0 && part >= 0 && part < parts, "shard_range: bad part index");
  const int64_t base = n / parts, extra = n % parts;
  Range r;
  r.size = base + (part < extra ? 1 : 0);
  r.begin = part * base + std::min<int64_t>(part, extra);
  return r;
}

void check_collective_tensor(const Communicator& comm, const char* op, const at::Tensor& t) {
  auto fail = [&](const std::string& what) { throw CommError(comm.rank(), comm.name(), op, what); };
  if (!t.defined()) fail("tensor is undefined");
  if (t.device().type() != comm.device_type()) {
    fail("tensor is on " + t.device().str() + " but this backend needs " +
         c10::DeviceTypeName(comm.device_type(), /*lower_case=*/true) + " tensors");
  }
  if (!t.is_contiguous()) fail("tensor is not contiguous (call .contiguous() first)");
  switch (t.scalar_type()) {
    case at::kFloat: case at::kDouble: case at::kBFloat16: case at::kHalf: case at::kLong:
      break;
    default:
      fail(std::string("unsupported dtype ") + c10::toString(t.scalar_type()) +
           " (supported: f32, f64, bf16, f16, i64)");
  }
}

std::vector<int64_t> reduce_scatter_counts(const Communicator& comm, int64_t n,
                                           const std::vector<int64_t>& counts) {
  std::vector<int64_t> out(comm.size());
  if (counts.empty()) {
    for (int r = 0; r < comm.size(); ++r) out[r] = shard_range(n, r, comm.size()).size;
    return out;
  }
  int64_t total = 0;
  for (int64_t c : counts) total += c;
  if (static_cast<int>(counts.size()) != comm.size() || total != n) {
    throw CommError(comm.rank(), comm.name(), "reduce_scatter",
                    "counts must have one entry per rank summing to input.size(0) = " +
                        std::to_string(n));
  }
  return counts;
}

}  // namespace revive::sharding
