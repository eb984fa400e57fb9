#include "tests/support/test_world.h"

#include <stdexcept>

namespace revive::testing {
namespace {
sharding::CommRuntime* g_runtime = nullptr;
sharding::Communicator* g_world = nullptr;
}  // namespace

sharding::Communicator& world() {
  if (!g_world) throw std::logic_error("test world used outside mpi_test_main");
  return *g_world;
}
sharding::CommRuntime& runtime() {
  if (!g_runtime) throw std::logic_error("test runtime used outside mpi_test_main");
  return *g_runtime;
}
void set_world(sharding::CommRuntime* rt, sharding::Communicator* world) {
  g_runtime = rt;
  g_world = world;
}
}  // namespace revive::testing
