#include "lib/eval/dp_split.h"

#include <ATen/ATen.h>

#include "sharding/comm/communicator.h"
#include "sharding/comm/staged_collectives.h"

namespace revive::eval {

DpSplit::DpSplit(sharding::Communicator* dp) : dp_(dp) {
  if (dp_) {
    rank_ = dp_->rank();
    size_ = dp_->size();
  }
}

std::vector<std::size_t> DpSplit::mine(std::size_t n) const {
  std::vector<std::size_t> out;
  for (std::size_t i = static_cast<std::size_t>(rank_); i < n; i += static_cast<std::size_t>(size_)) out.push_back(i);
  return out;
}

void DpSplit::sum(at::Tensor& values) const {
  if (!dp_ || size_ == 1) return;
  sharding::all_reduce_staged(*dp_, values);
}

std::vector<double> DpSplit::sum(const std::vector<double>& values) const {
  if (!dp_ || size_ == 1 || values.empty()) return values;
  at::Tensor t = at::tensor(values, at::kDouble);
  sum(t);
  return std::vector<double>(t.data_ptr<double>(), t.data_ptr<double>() + t.numel());
}

}  // namespace revive::eval
