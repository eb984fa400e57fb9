#include "lib/spectral/weight_checksum.h"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>

#include <atomic>
#include <cstdio>
#include <cstring>

#include "lib/spectral/hash64.h"
#include "sharding/comm/staged_collectives.h"

namespace revive::spectral {

uint64_t weight_checksum(const sharding::ShardedTensor& w) {
  const auto& spec = w.spec();
  const std::vector<int64_t>& shape = spec.global_shape;
  // View every tensor as [outer, split, inner] around its split dimension.
  int64_t outer = 1, inner = 1, extent = 1;
  const int64_t dim = spec.dim < 0 ? 0 : spec.dim;
  for (int64_t d = 0; d < static_cast<int64_t>(shape.size()); ++d) {
    if (d < dim) outer *= shape[d];
    if (d > dim) inner *= shape[d];
    if (d == dim) extent = shape[d];
  }
  const int64_t begin = spec.dim < 0 ? 0 : spec.offset;
  const at::Tensor local = w.local().to(at::kFloat).cpu().contiguous();
  const int64_t len = spec.dim < 0 ? extent : spec.length;
  const float* data = local.data_ptr<float>();
  std::atomic<uint64_t> total{0};
  at::parallel_for(0, outer * len, 64, [&](int64_t lo, int64_t hi) {
    uint64_t part = 0;
    for (int64_t ol = lo; ol < hi; ++ol) {
      const int64_t o = ol / len, j = ol % len;
      const uint64_t base = static_cast<uint64_t>((o * extent + begin + j) * inner);
      const float* row = data + ol * inner;
      for (int64_t i = 0; i < inner; ++i) {
        uint32_t bits;
        std::memcpy(&bits, row + i, sizeof bits);
        part += mix64(mix64(base + static_cast<uint64_t>(i)) ^ bits);
      }
    }
    total.fetch_add(part);
  });
  uint64_t sum = total.load();
  if (spec.dim >= 0 && spec.tp_size > 1) {
    // Exact combination: gather the per-rank words, add them with wrap-around.
    at::Tensor word = at::empty({1}, at::kLong);
    std::memcpy(word.data_ptr<int64_t>(), &sum, sizeof sum);
    // Staged: a GPU communicator moves device tensors only.
    const at::Tensor all = sharding::all_gather_staged(w.reduce_group(), word).cpu();
    sum = 0;
    for (int64_t r = 0; r < all.numel(); ++r) {
      uint64_t v;
      std::memcpy(&v, all.data_ptr<int64_t>() + r, sizeof v);
      sum += v;
    }
  }
  for (int64_t s : shape) sum = mix64(sum ^ static_cast<uint64_t>(s));
  return sum;
}

std::string checksum_hex(uint64_t checksum) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(checksum));
  return buf;
}

}  // namespace revive::spectral
