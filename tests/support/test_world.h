#pragma once
// The world communicator of a multi-rank test binary (set up by
// mpi_test_main.cpp). Every rank runs every test in the same order, so tests may
// call collectives freely.
#include "sharding/comm/communicator.h"
#include "sharding/comm/comm_runtime.h"

namespace revive::testing {
sharding::Communicator& world();
sharding::CommRuntime& runtime();
void set_world(sharding::CommRuntime* rt, sharding::Communicator* world);
}  // namespace revive::testing
