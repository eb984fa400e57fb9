#pragma once
// MPI backend: CPU tensors over an MPI communicator.
//  * Every collective is issued non-blocking and polled against a deadline, so a
//    dead peer produces a clear abort instead of a hang (see watchdog.h).
//  * Element counts beyond MPI's int limit are split into chunks.
//  * bf16/f16 are reduced in f32 (MPI has no portable half types); gathers and
//    broadcasts move raw bytes, so they are exact for every dtype.
#include <mpi.h>

#include "sharding/comm/communicator.h"

namespace revive::sharding {

class MpiCommunicator final : public Communicator {
 public:
  // Takes ownership of `comm` (freed on destruction) unless it is MPI_COMM_WORLD.
  MpiCommunicator(MPI_Comm comm, std::string group);
  ~MpiCommunicator() override;
  MpiCommunicator(const MpiCommunicator&) = delete;
  MpiCommunicator& operator=(const MpiCommunicator&) = delete;

  int rank() const override { return rank_; }
  int size() const override { return size_; }
  std::string name() const override { return name_; }
  c10::DeviceType device_type() const override { return c10::DeviceType::CPU; }

  void all_reduce(at::Tensor& tensor, const AllReduceOptions& opts = {}) override;
  void broadcast(at::Tensor& tensor, const BroadcastOptions& opts = {}) override;
  at::Tensor all_gather(const at::Tensor& local, const AllGatherOptions& opts = {}) override;
  at::Tensor reduce_scatter(const at::Tensor& input, const ReduceScatterOptions& opts = {}) override;
  void barrier(const BarrierOptions& opts = {}) override;
  std::unique_ptr<Communicator> split(int color, int key, const std::string& name) override;

  MPI_Comm handle() const { return comm_; }

 private:
  // Polls the requests until done; past the timeout prints a diagnosis and aborts the job.
  void wait(std::vector<MPI_Request>& requests, const char* op, Timeout timeout);
  // Chunked in-place byte broadcast of [data, data+bytes) from root.
  void bcast_bytes(void* data, int64_t bytes, int root, std::vector<MPI_Request>& requests);
  void all_reduce_elements(at::Tensor& work, ReduceOp op, const char* opname, Timeout timeout);

  MPI_Comm comm_;
  int rank_ = 0;
  int size_ = 1;
  std::string name_;
  int64_t max_count_;  // largest count passed to one MPI call
};

}  // namespace revive::sharding
