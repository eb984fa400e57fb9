// Fault injection for the failure-behaviour test (rank_failure_test.sh): all
// ranks loop over all-reduces; at iteration 5 the victim rank fails in the way
// named by argv[1]:
//   kill   - SIGKILL itself in the middle of the collective loop
//   throw  - hand a non-contiguous tensor to all_reduce (a CommError on that rank)
//   hang   - stop taking part (sleep), so the others' collective times out
// The survivors must exit non-zero, quickly, naming the operation and the rank.
#include <ATen/ATen.h>
#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <iostream>

#include "sharding/comm/comm_runtime.h"
#include "sharding/errors.h"

using namespace revive::sharding;

int main(int argc, char** argv) {
  const std::string mode = argc > 1 ? argv[1] : "kill";
  const int victim = argc > 2 ? std::atoi(argv[2]) : 1;
  CommRuntime runtime(Backend::kMpi, &argc, &argv);
  auto world = runtime.world();
  try {
    for (int it = 0; it < 1000; ++it) {
      at::Tensor t = at::ones({1024});
      if (it == 5 && world->rank() == victim) {
        if (mode == "kill") raise(SIGKILL);
        if (mode == "hang") sleep(600);
        if (mode == "throw") t = at::ones({32, 32}).t();
      }
      world->all_reduce(t);
      if (t[0].item<float>() != world->size()) throw revive::Error("wrong all_reduce result");
    }
  } catch (const std::exception& e) {
    runtime.abort(std::string("rank_failure: rank ") + std::to_string(world->rank()) + ": " + e.what(), 4);
  }
  std::cout << "rank " << world->rank() << " finished without a failure" << std::endl;
  return 0;
}
