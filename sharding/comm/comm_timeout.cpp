#include "sharding/comm/comm_timeout.h"

#include <cstdlib>

#include "sharding/env.h"

namespace revive::sharding {

Timeout resolve_timeout(Timeout requested) {
  if (requested.count() > 0) return requested;
  static const Timeout from_env = [] {
    if (const char* s = std::getenv(env::kCommTimeoutSeconds)) {
      const double secs = std::atof(s);
      if (secs > 0) return Timeout(static_cast<int64_t>(secs * 1000));
    }
    return Timeout(600 * 1000);
  }();
  return from_env;
}

}  // namespace revive::sharding
