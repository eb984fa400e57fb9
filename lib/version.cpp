#include "lib/version.h"

#include <torch/version.h>

#include <nlohmann/json.hpp>

#include "revive/config.h"

namespace revive {

std::string build_info_json() {
  nlohmann::json j;
  j["revive"] = REVIVE_VERSION;
  j["libtorch"] = TORCH_VERSION;
  j["cuda_code"] = static_cast<bool>(REVIVE_HAVE_CUDA);
  j["nccl"] = static_cast<bool>(REVIVE_HAVE_NCCL);
  j["cuda_libtorch"] = static_cast<bool>(REVIVE_TORCH_HAS_CUDA);
  return j.dump();
}

}  // namespace revive
