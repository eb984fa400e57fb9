#pragma once
// The timeout a collective runs under: the call's own, else REVIVE_COMM_TIMEOUT_S,
// else 600 s (long enough for a 70B-class Gram all-reduce, short enough that a
// dead job does not hold a cluster for hours).
#include "sharding/comm/communicator.h"

namespace revive::sharding {
Timeout resolve_timeout(Timeout requested);
}
