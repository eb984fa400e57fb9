#pragma once
// Single-process backend: a group of one. Every collective is the identity (avg
// and max of one value are the value), with the same argument checks as the
// distributed backends so single-rank runs catch the same mistakes.
#include "sharding/comm/communicator.h"

namespace revive::sharding {

class LocalCommunicator final : public Communicator {
 public:
  explicit LocalCommunicator(std::string group = "world",
                             c10::DeviceType device = c10::DeviceType::CPU)
      : group_(std::move(group)), device_(device) {}

  int rank() const override { return 0; }
  int size() const override { return 1; }
  std::string name() const override { return "local:" + group_; }
  c10::DeviceType device_type() const override { return device_; }

  void all_reduce(at::Tensor& tensor, const AllReduceOptions& opts = {}) override;
  void broadcast(at::Tensor& tensor, const BroadcastOptions& opts = {}) override;
  at::Tensor all_gather(const at::Tensor& local, const AllGatherOptions& opts = {}) override;
  at::Tensor reduce_scatter(const at::Tensor& input, const ReduceScatterOptions& opts = {}) override;
  void barrier(const BarrierOptions& = {}) override {}
  std::unique_ptr<Communicator> split(int color, int key, const std::string& name) override;

 private:
  std::string group_;
  c10::DeviceType device_;
};

}  // namespace revive::sharding
