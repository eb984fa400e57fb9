#pragma once
// What this build of REVIVE is and what it was built with.
#include <string>

namespace revive {
// One-line JSON object: version, LibTorch version, CUDA/NCCL availability.
std::string build_info_json();
}  // namespace revive
