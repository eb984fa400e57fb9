#pragma once
// Forward declaration of sharding::Communicator, for headers that take a
// process group by reference only (communicator.h includes ATen).

namespace revive::sharding {
class Communicator;
}  // namespace revive::sharding
