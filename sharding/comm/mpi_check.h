#pragma once
// REVIVE_MPI_CHECK: turn a failed MPI call into a CommError naming rank, group,
// operation, MPI's error string and the source location.
#include <mpi.h>

#include <string>

#include "sharding/errors.h"

namespace revive::sharding {
inline std::string mpi_error_string(int code) {
  char buf[MPI_MAX_ERROR_STRING];
  int len = 0;
  if (MPI_Error_string(code, buf, &len) != MPI_SUCCESS) return "MPI error " + std::to_string(code);
  return std::string(buf, len);
}
}  // namespace revive::sharding

#define REVIVE_MPI_CHECK(call, rank, group, op)                                          \
  do {                                                                                    \
    int revive_mpi_rc_ = (call);                                                          \
    if (revive_mpi_rc_ != MPI_SUCCESS) {                                                  \
      throw ::revive::CommError((rank), (group), (op),                                    \
                                std::string(#call) + " failed: " +                        \
                                    ::revive::sharding::mpi_error_string(revive_mpi_rc_) + \
                                    " (" REVIVE_WHERE ")");                               \
    }                                                                                     \
  } while (0)
