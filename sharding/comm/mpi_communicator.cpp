#include "sharding/comm/mpi_communicator.h"

#include <ATen/ATen.h>
#include <sched.h>

#include <chrono>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <thread>

#include "sharding/comm/comm_timeout.h"
#include "sharding/comm/mpi_check.h"
#include "sharding/comm/tensor_checks.h"
#include "sharding/comm/watchdog.h"
#include "sharding/env.h"

namespace revive::sharding {
namespace {

MPI_Datatype mpi_type(at::ScalarType t) {
  switch (t) {
    case at::kFloat: return MPI_FLOAT;
    case at::kDouble: return MPI_DOUBLE;
    case at::kLong: return MPI_INT64_T;
    default: return MPI_DATATYPE_NULL;  // half types are widened before reductions
  }
}

MPI_Op mpi_op(ReduceOp op) { return op == ReduceOp::kMax ? MPI_MAX : MPI_SUM; }

// MPI rejects null buffers even with a zero count; empty tensors have none.
void* buffer(void* p) {
  static char dummy[16];
  return p ? p : dummy;
}

void finish_avg(at::Tensor& t, ReduceOp op, int size) {
  if (op != ReduceOp::kAvg) return;
  if (at::isFloatingType(t.scalar_type())) t.div_(size);
  else t.floor_divide_(size);
}

int64_t max_count_from_env() {
  if (const char* s = std::getenv(env::kMpiMaxCount)) {
    long long v = std::atoll(s);
    if (v > 0 && v <= INT_MAX) return v;
  }
  return INT_MAX;
}

}  // namespace

MpiCommunicator::MpiCommunicator(MPI_Comm comm, std::string group)
    : comm_(comm), name_("mpi:" + std::move(group)), max_count_(max_count_from_env()) {
  MPI_Comm_rank(comm_, &rank_);
  MPI_Comm_size(comm_, &size_);
  MPI_Comm_set_errhandler(comm_, MPI_ERRORS_RETURN);
}

MpiCommunicator::~MpiCommunicator() {
  int finalized = 0;
  MPI_Finalized(&finalized);
  if (!finalized && comm_ != MPI_COMM_WORLD && comm_ != MPI_COMM_NULL) MPI_Comm_free(&comm_);
}

void MpiCommunicator::wait(std::vector<MPI_Request>& requests, const char* op, Timeout timeout) {
  using clock = std::chrono::steady_clock;
  const auto start = clock::now();
  const auto deadline = start + resolve_timeout(timeout);
  for (int spins = 0;; ++spins) {
    int done = 0;
    REVIVE_MPI_CHECK(MPI_Testall(static_cast<int>(requests.size()), requests.data(), &done,
                                 MPI_STATUSES_IGNORE),
                     rank_, name_, op);
    if (done) return;
    const auto now = clock::now();
    if (now > deadline) {
      const double secs = std::chrono::duration<double>(now - start).count();
      std::fprintf(stderr,
                   "revive: rank %d [%s] %s (collective #%llu%s%s) did not complete within %.1f s; "
                   "dead peers: %s; stopped peers: %s; aborting the job\n",
                   rank_, name_.c_str(), op, static_cast<unsigned long long>(watchdog::sequence()),
                   *watchdog::current_phase() ? ", phase " : "", watchdog::current_phase(), secs,
                   watchdog::dead_peers().c_str(), watchdog::stopped_peers().c_str());
      std::fflush(stderr);
      MPI_Abort(MPI_COMM_WORLD, 3);
      std::_Exit(3);
    }
    // Back off so oversubscribed ranks (more ranks than cores) leave the CPU to peers.
    if (spins < 64) continue;
    if (now - start < std::chrono::milliseconds(2)) sched_yield();
    else std::this_thread::sleep_for(std::chrono::microseconds(50));
  }
}

void MpiCommunicator::all_reduce_elements(at::Tensor& work, ReduceOp op, const char* opname,
                                          Timeout timeout) {
  const MPI_Datatype type = mpi_type(work.scalar_type());
  const int64_t esize = work.element_size();
  char* base = static_cast<char*>(work.data_ptr());
  std::vector<MPI_Request> reqs;
  for (int64_t off = 0; off < work.numel(); off += max_count_) {
    const int count = static_cast<int>(std::min(max_count_, work.numel() - off));
    reqs.emplace_back();
    REVIVE_MPI_CHECK(MPI_Iallreduce(MPI_IN_PLACE, base + off * esize, count, type, mpi_op(op), comm_,
                                    &reqs.back()),
                     rank_, name_, opname);
  }
  wait(reqs, opname, timeout);
}

void MpiCommunicator::all_reduce(at::Tensor& tensor, const AllReduceOptions& opts) {
  check_collective_tensor(*this, "all_reduce", tensor);
  watchdog::Scope scope("all_reduce", name_.c_str());
  at::Tensor work = is_half_precision(tensor.scalar_type()) ? tensor.to(at::kFloat) : tensor;
  all_reduce_elements(work, opts.op, "all_reduce", opts.timeout);
  finish_avg(work, opts.op, size_);
  if (!work.is_same(tensor)) tensor.copy_(work);
}

void MpiCommunicator::bcast_bytes(void* data, int64_t bytes, int root, std::vector<MPI_Request>& reqs) {
  char* base = static_cast<char*>(data);
  for (int64_t off = 0; off < bytes; off += max_count_) {
    const int count = static_cast<int>(std::min(max_count_, bytes - off));
    reqs.emplace_back();
    REVIVE_MPI_CHECK(MPI_Ibcast(base + off, count, MPI_BYTE, root, comm_, &reqs.back()), rank_, name_,
                     "broadcast");
  }
}

void MpiCommunicator::broadcast(at::Tensor& tensor, const BroadcastOptions& opts) {
  check_collective_tensor(*this, "broadcast", tensor);
  if (opts.root < 0 || opts.root >= size_) {
    throw CommError(rank_, name_, "broadcast", "root " + std::to_string(opts.root) + " out of range");
  }
  watchdog::Scope scope("broadcast", name_.c_str());
  std::vector<MPI_Request> reqs;
  bcast_bytes(tensor.data_ptr(), tensor.nbytes(), opts.root, reqs);
  wait(reqs, "broadcast", opts.timeout);
}

at::Tensor MpiCommunicator::all_gather(const at::Tensor& local, const AllGatherOptions& opts) {
  check_collective_tensor(*this, "all_gather", local);
  if (local.dim() == 0) throw CommError(rank_, name_, "all_gather", "tensor must have at least one dimension");
  const int64_t dim = opts.dim < 0 ? opts.dim + local.dim() : opts.dim;
  if (dim < 0 || dim >= local.dim()) {
    throw CommError(rank_, name_, "all_gather", "dim " + std::to_string(opts.dim) + " out of range");
  }
  watchdog::Scope scope("all_gather", name_.c_str());
  at::Tensor rows = local.movedim(dim, 0).contiguous();
  // Elements per gathered row, from the shape: an empty contribution still
  // knows its row size.
  int64_t row_elems = 1;
  for (int64_t d = 1; d < rows.dim(); ++d) row_elems *= rows.size(d);
  const int64_t row_bytes = row_elems * static_cast<int64_t>(rows.element_size());

  // Exchange (rows, elements per row, ndim, dtype) so a shape mismatch is an
  // error instead of a corrupted buffer.
  int64_t mine[4] = {rows.size(0), row_elems, rows.dim(), static_cast<int64_t>(rows.scalar_type())};
  std::vector<int64_t> all(4 * size_);
  std::vector<MPI_Request> reqs(1);
  REVIVE_MPI_CHECK(MPI_Iallgather(mine, 4, MPI_INT64_T, all.data(), 4, MPI_INT64_T, comm_, &reqs[0]),
                   rank_, name_, "all_gather");
  wait(reqs, "all_gather", opts.timeout);
  int64_t total_rows = 0;
  for (int r = 0; r < size_; ++r) {
    if (all[4 * r + 1] != row_elems || all[4 * r + 2] != mine[2] || all[4 * r + 3] != mine[3]) {
      throw CommError(rank_, name_, "all_gather",
                      "rank " + std::to_string(r) + " contributes a tensor whose dtype or non-gathered "
                      "dimensions differ from this rank's");
    }
    total_rows += all[4 * r];
  }
  std::vector<int64_t> out_shape = rows.sizes().vec();
  out_shape[0] = total_rows;
  at::Tensor out = at::empty(out_shape, rows.options());

  reqs.clear();
  const int64_t total_bytes = out.nbytes();
  char* out_base = static_cast<char*>(out.data_ptr());
  if (total_bytes == 0) {
    // Nothing to move (every contribution is empty).
  } else if (total_bytes <= max_count_) {
    std::vector<int> counts(size_), displs(size_);
    int64_t off = 0;
    for (int r = 0; r < size_; ++r) {
      counts[r] = static_cast<int>(all[4 * r] * row_bytes);
      displs[r] = static_cast<int>(off);
      off += counts[r];
    }
    reqs.emplace_back();
    REVIVE_MPI_CHECK(MPI_Iallgatherv(buffer(rows.data_ptr()), counts[rank_], MPI_BYTE, out_base, counts.data(),
                                     displs.data(), MPI_BYTE, comm_, &reqs.back()),
                     rank_, name_, "all_gather");
  } else {
    // Too large for int displacements: each rank broadcasts its rows in chunks.
    int64_t off = 0;
    for (int r = 0; r < size_; ++r) {
      const int64_t bytes = all[4 * r] * row_bytes;
      if (r == rank_ && bytes) std::memcpy(out_base + off, rows.data_ptr(), bytes);
      bcast_bytes(out_base + off, bytes, r, reqs);
      off += bytes;
    }
  }
  wait(reqs, "all_gather", opts.timeout);
  return dim == 0 ? out : out.movedim(0, dim).contiguous();
}

at::Tensor MpiCommunicator::reduce_scatter(const at::Tensor& input, const ReduceScatterOptions& opts) {
  check_collective_tensor(*this, "reduce_scatter", input);
  if (input.dim() == 0) throw CommError(rank_, name_, "reduce_scatter", "input must have at least one dimension");
  const std::vector<int64_t> counts = reduce_scatter_counts(*this, input.size(0), opts.counts);
  watchdog::Scope scope("reduce_scatter", name_.c_str());
  const int64_t row_elems = input.size(0) ? input.numel() / input.size(0) : 0;
  int64_t begin = 0;
  for (int r = 0; r < rank_; ++r) begin += counts[r];

  at::Tensor work = is_half_precision(input.scalar_type()) ? input.to(at::kFloat) : input;
  at::Tensor out;
  if (work.numel() <= max_count_) {
    std::vector<int> recv(size_);
    for (int r = 0; r < size_; ++r) recv[r] = static_cast<int>(counts[r] * row_elems);
    std::vector<int64_t> shape = work.sizes().vec();
    shape[0] = counts[rank_];
    out = at::empty(shape, work.options());
    std::vector<MPI_Request> reqs(1);
    REVIVE_MPI_CHECK(MPI_Ireduce_scatter(buffer(work.data_ptr()), buffer(out.data_ptr()), recv.data(),
                                         mpi_type(work.scalar_type()), mpi_op(opts.op), comm_, &reqs[0]),
                     rank_, name_, "reduce_scatter");
    wait(reqs, "reduce_scatter", opts.timeout);
  } else {
    // Counts beyond one MPI call: reduce everything in chunks, keep our rows.
    at::Tensor full = work.is_same(input) ? work.clone() : work;
    all_reduce_elements(full, opts.op, "reduce_scatter", opts.timeout);
    out = full.narrow(0, begin, counts[rank_]).clone();
  }
  finish_avg(out, opts.op, size_);
  return is_half_precision(input.scalar_type()) ? out.to(input.scalar_type()) : out;
}

void MpiCommunicator::barrier(const BarrierOptions& opts) {
  watchdog::Scope scope("barrier", name_.c_str());
  std::vector<MPI_Request> reqs(1);
  REVIVE_MPI_CHECK(MPI_Ibarrier(comm_, &reqs[0]), rank_, name_, "barrier");
  wait(reqs, "barrier", opts.timeout);
}

std::unique_ptr<Communicator> MpiCommunicator::split(int color, int key, const std::string& name) {
  MPI_Comm sub = MPI_COMM_NULL;
  REVIVE_MPI_CHECK(MPI_Comm_split(comm_, color, key, &sub), rank_, name_, "split");
  return std::make_unique<MpiCommunicator>(sub, name);
}

}  // namespace revive::sharding
