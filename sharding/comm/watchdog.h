#pragma once
// Diagnostics for collectives that cannot finish. Records which collective this
// process is in and which processes its peers are, so that on a timeout - or when
// the launcher terminates us because a peer died - the message names the
// operation and the failed rank instead of leaving a silent hang.
#include <cstdint>
#include <string>
#include <vector>

namespace revive::sharding::watchdog {

struct Peer {
  int world_rank = 0;
  int64_t pid = 0;
  bool same_host = false;  // only same-host peers can be probed for liveness
};

// Remembers the peers and installs SIGTERM/SIGINT/SIGHUP handlers that print the
// current collective and the dead peers before exiting with 128+signal.
void install(int world_rank, std::vector<Peer> peers);

// RAII marker of the collective in progress (op and group must be string literals
// or outlive the scope).
class Scope {
 public:
  Scope(const char* op, const char* group);
  ~Scope();
  Scope(const Scope&) = delete;
  Scope& operator=(const Scope&) = delete;
};

// "rank 1 (pid 4242)" for every same-host peer that is no longer running;
// "none found on this host" otherwise.
std::string dead_peers();

// Monotonic count of collectives entered by this process.
uint64_t sequence();

}  // namespace revive::sharding::watchdog
