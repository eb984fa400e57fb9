#pragma once
// A checksum of a (possibly sharded) weight that does not depend on how it is
// sharded: the wrapping sum over elements of hash(global index, f32 bits). A
// protected basis stores the checksum of its original weight, so loading it
// against another weight (or an already edited one) is refused.
#include <cstdint>
#include <string>

#include "sharding/sharded_tensor.h"

namespace revive::spectral {

// Collective over w.reduce_group() when w is split.
uint64_t weight_checksum(const sharding::ShardedTensor& w);

std::string checksum_hex(uint64_t checksum);

}  // namespace revive::spectral
