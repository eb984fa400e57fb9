#pragma once
// CommRuntime: owns the process's communication runtime (MPI init/finalize) and
// makes the world communicator of the chosen backend. Create one in main(),
// before anything else, and let it outlive every communicator it made.
#include <c10/core/Device.h>

#include <memory>
#include <string>

#include "sharding/comm/communicator.h"

namespace revive::sharding {

enum class Backend { kAuto, kLocal, kMpi, kNccl };
// "auto" | "local" | "mpi" | "nccl"; throws revive::Error naming the value otherwise.
Backend parse_backend(const std::string& name);
const char* to_string(Backend b);

// True when this process was started by an MPI launcher (mpirun, srun with PMI).
bool launched_by_mpi();

// This process's rank among the ranks on its node. Collective over
// MPI_COMM_WORLD (MPI must be initialised).
int node_local_rank();

class CommRuntime {
 public:
  // kAuto: REVIVE_COMM if set; else NCCL... never implicitly; MPI when started by
  // an MPI launcher; otherwise the single-process backend.
  explicit CommRuntime(Backend backend = Backend::kAuto, int* argc = nullptr, char*** argv = nullptr);
  ~CommRuntime();
  CommRuntime(const CommRuntime&) = delete;
  CommRuntime& operator=(const CommRuntime&) = delete;

  Backend backend() const { return backend_; }
  // A new communicator over all processes.
  std::unique_ptr<Communicator> world() const;

  // Where this rank computes for `type`: the CPU, or for CUDA the GPU the NCCL
  // backend binds (node-local rank mod visible GPUs), made the current device.
  // Throws, saying why, when no GPU is visible to this build. Collective (every
  // rank calls it) unless the backend is local.
  c10::Device rank_device(c10::DeviceType type) const;

  // Ends the whole job (all ranks) with `code` after printing `message`; used when
  // one rank fails so that the others do not wait for it.
  [[noreturn]] void abort(const std::string& message, int code = 1) const;

 private:
  Backend backend_;
  bool owns_mpi_ = false;
};

}  // namespace revive::sharding
