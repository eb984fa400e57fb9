#include "sharding/comm/comm_runtime.h"

#include <ATen/Context.h>
#include <mpi.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "revive/config.h"
#include "sharding/comm/local_communicator.h"
#include "sharding/comm/mpi_communicator.h"
#include "sharding/comm/watchdog.h"
#include "sharding/env.h"
#include "sharding/errors.h"
#if REVIVE_HAVE_NCCL
#include "sharding/comm/cuda/nccl_communicator.h"
#endif
#if REVIVE_HAVE_CUDA
#include <cuda_runtime_api.h>
#endif

namespace revive::sharding {

Backend parse_backend(const std::string& name) {
  if (name == "auto" || name.empty()) return Backend::kAuto;
  if (name == "local") return Backend::kLocal;
  if (name == "mpi") return Backend::kMpi;
  if (name == "nccl") return Backend::kNccl;
  throw Error("unknown communication backend '" + name + "' (expected auto, local, mpi or nccl)");
}

const char* to_string(Backend b) {
  switch (b) {
    case Backend::kAuto: return "auto";
    case Backend::kLocal: return "local";
    case Backend::kMpi: return "mpi";
    case Backend::kNccl: return "nccl";
  }
  return "?";
}

bool launched_by_mpi() {
  for (const char* v : {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_RANK", "MPI_LOCALRANKID"}) {
    if (std::getenv(v)) return true;
  }
  return false;
}

namespace {

// Gathers (host, pid) of every rank so the watchdog can name dead peers.
void install_watchdog() {
  int rank = 0, size = 1;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  struct Id {
    char host[64];
    int64_t pid;
  } mine{}, *all = new Id[size];
  gethostname(mine.host, sizeof(mine.host) - 1);
  mine.pid = getpid();
  MPI_Allgather(&mine, sizeof(Id), MPI_BYTE, all, sizeof(Id), MPI_BYTE, MPI_COMM_WORLD);
  std::vector<watchdog::Peer> peers;
  for (int r = 0; r < size; ++r) {
    peers.push_back({r, all[r].pid, std::strncmp(all[r].host, mine.host, sizeof(mine.host)) == 0});
  }
  delete[] all;
  watchdog::install(rank, std::move(peers));
}

}  // namespace

int node_local_rank() {
  int rank = 0, local_rank = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm node = MPI_COMM_NULL;
  MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, rank, MPI_INFO_NULL, &node);
  MPI_Comm_rank(node, &local_rank);
  MPI_Comm_free(&node);
  return local_rank;
}

CommRuntime::CommRuntime(Backend backend, int* argc, char*** argv) : backend_(backend) {
  if (backend_ == Backend::kAuto) {
    const char* env_backend = std::getenv(env::kCommBackend);
    backend_ = env_backend ? parse_backend(env_backend) : Backend::kAuto;
    if (backend_ == Backend::kAuto) backend_ = launched_by_mpi() ? Backend::kMpi : Backend::kLocal;
  }
#if !REVIVE_HAVE_NCCL
  if (backend_ == Backend::kNccl) {
    throw Error("the nccl backend was requested but this build of REVIVE has no NCCL (configure with REVIVE_CUDA=ON)");
  }
#endif
  if (backend_ == Backend::kLocal) return;
  int initialized = 0;
  MPI_Initialized(&initialized);
  if (!initialized) {
    int provided = 0;
    if (MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided) != MPI_SUCCESS) {
      throw Error("MPI_Init_thread failed");
    }
    owns_mpi_ = true;
  }
  MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
  install_watchdog();
}

CommRuntime::~CommRuntime() {
  if (!owns_mpi_) return;
  int finalized = 0;
  MPI_Finalized(&finalized);
  if (!finalized) MPI_Finalize();
}

std::unique_ptr<Communicator> CommRuntime::world() const {
  switch (backend_) {
    case Backend::kLocal:
      return std::make_unique<LocalCommunicator>("world");
    case Backend::kMpi: {
      MPI_Comm dup = MPI_COMM_NULL;
      MPI_Comm_dup(MPI_COMM_WORLD, &dup);
      return std::make_unique<MpiCommunicator>(dup, "world");
    }
    case Backend::kNccl:
#if REVIVE_HAVE_NCCL
      return make_nccl_world();
#endif
    case Backend::kAuto:
      break;
  }
  throw Error("CommRuntime: no backend");
}

c10::Device CommRuntime::rank_device(c10::DeviceType type) const {
  if (type == c10::kCPU) return c10::Device(c10::kCPU);
  if (type != c10::kCUDA) throw Error(std::string("no placement on ") + c10::DeviceTypeName(type) + " devices");
  const auto gpus = static_cast<int>(at::getNumGPUs());
  if (gpus == 0) {
    throw Error("no CUDA device: this REVIVE's LibTorch has no CUDA, or no GPU is visible to the process");
  }
  const int local = backend_ == Backend::kLocal ? 0 : node_local_rank();
  const auto index = static_cast<c10::DeviceIndex>(local % gpus);
#if REVIVE_HAVE_CUDA
  // What LibTorch and NCCL take as the current device.
  if (cudaSetDevice(index) != cudaSuccess) {
    throw Error("cannot make GPU " + std::to_string(index) + " this rank's device (cudaSetDevice failed)");
  }
#endif
  return c10::Device(c10::kCUDA, index);
}

void CommRuntime::abort(const std::string& message, int code) const {
  std::fprintf(stderr, "%s\n", message.c_str());
  std::fflush(stderr);
  if (backend_ != Backend::kLocal) MPI_Abort(MPI_COMM_WORLD, code);
  std::_Exit(code);
}

}  // namespace revive::sharding
