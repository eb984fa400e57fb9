// The smallest program built against the installed REVIVE package: start the
// communication runtime, build the process grid, all-reduce one tensor.
#include <ATen/ATen.h>

#include <iostream>

#include "lib/version.h"
#include "sharding/comm/comm_runtime.h"
#include "sharding/process_grid.h"

int main(int argc, char** argv) {
  revive::sharding::CommRuntime runtime(revive::sharding::Backend::kAuto, &argc, &argv);
  revive::sharding::ProcessGrid grid(runtime.world());
  at::Tensor t = at::ones({3});
  grid.tp().all_reduce(t);
  std::cout << revive::build_info_json() << " tp-sum " << t[0].item<float>() << std::endl;
  return t[0].item<float>() == grid.tp_size() ? 0 : 1;
}
