#pragma once
// Names of every environment variable REVIVE reads, in one place.
namespace revive::env {
inline constexpr const char* kTensorParallel = "REVIVE_TP";   // tp size of the process grid
inline constexpr const char* kDataParallel = "REVIVE_DP";     // dp size of the process grid
inline constexpr const char* kCommBackend = "REVIVE_COMM";    // local | mpi | nccl
inline constexpr const char* kCommTimeoutSeconds = "REVIVE_COMM_TIMEOUT_S";
// Largest element count per MPI call (default INT_MAX); tests lower it to
// exercise the chunking that counts beyond 2^31 need.
inline constexpr const char* kMpiMaxCount = "REVIVE_MPI_MAX_COUNT";
}  // namespace revive::env
