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

// RAII marker of the run's phase (statistics, v*, keys, solve, filter, write,
// checkpoint, evaluation, ...), named with the collective when a job fails; the
// name must be a string literal. Phases nest: the outer one returns at the end.
// Fault injection for tests: REVIVE_FAULT_INJECT="rank=R,phase=NAME,signal=KILL|STOP[,count=N]"
// makes world rank R raise that signal on its N-th entry (default 1) into the phase.
class Phase {
 public:
  explicit Phase(const char* name);
  ~Phase();
  Phase(const Phase&) = delete;
  Phase& operator=(const Phase&) = delete;

 private:
  const char* outer_;
};

// The phase this process is in ("" outside any).
const char* current_phase();

// "rank 1 (pid 4242)" for every same-host peer that is no longer running;
// "none found on this host" otherwise.
std::string dead_peers();

// The same for same-host peers stopped (SIGSTOP, a debugger): a collective
// that times out names them, since MPI cannot say which peer never arrived.
std::string stopped_peers();

// Monotonic count of collectives entered by this process.
uint64_t sequence();

}  // namespace revive::sharding::watchdog
