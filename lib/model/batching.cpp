#include "lib/model/batching.h"

#include <ATen/ATen.h>

#include <algorithm>

namespace revive::model {

PaddedBatch pad_right(const std::vector<std::vector<int64_t>>& seqs, int64_t pad_id) {
  const int64_t B = static_cast<int64_t>(seqs.size());
  int64_t T = 0;
  for (const auto& s : seqs) T = std::max<int64_t>(T, static_cast<int64_t>(s.size()));
  PaddedBatch out;
  out.ids = at::full({B, T}, pad_id, at::kLong);
  out.mask = at::zeros({B, T}, at::kLong);
  out.lengths = at::zeros({B}, at::kLong);
  auto ids = out.ids.accessor<int64_t, 2>();
  auto mask = out.mask.accessor<int64_t, 2>();
  auto len = out.lengths.accessor<int64_t, 1>();
  for (int64_t b = 0; b < B; ++b) {
    const auto& s = seqs[static_cast<size_t>(b)];
    len[b] = static_cast<int64_t>(s.size());
    for (size_t t = 0; t < s.size(); ++t) {
      ids[b][static_cast<int64_t>(t)] = s[t];
      mask[b][static_cast<int64_t>(t)] = 1;
    }
  }
  return out;
}

}  // namespace revive::model
