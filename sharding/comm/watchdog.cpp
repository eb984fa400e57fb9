#include "sharding/comm/watchdog.h"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string>

namespace revive::sharding::watchdog {
namespace {

// Fixed-size state: the signal handler may only touch plain memory and call
// async-signal-safe functions (write, kill, open, read, _exit).
constexpr int kMaxPeers = 4096;
int g_rank = -1;
int g_npeers = 0;
int g_peer_rank[kMaxPeers];
pid_t g_peer_pid[kMaxPeers];
std::atomic<const char*> g_op{nullptr};
std::atomic<const char*> g_group{nullptr};
std::atomic<uint64_t> g_seq{0};
std::atomic<const char*> g_phase{nullptr};

void put(const char* s) {
  ssize_t rc = ::write(STDERR_FILENO, s, std::strlen(s));
  (void)rc;
}
void put_int(long long v) {
  char buf[24];
  int i = sizeof(buf) - 1;
  buf[i] = '\0';
  bool neg = v < 0;
  unsigned long long u = neg ? -static_cast<unsigned long long>(v) : v;
  do { buf[--i] = static_cast<char>('0' + u % 10); u /= 10; } while (u && i > 1);
  if (neg) buf[--i] = '-';
  put(buf + i);
}

// The state letter of /proc/<pid>/stat ('R', 'S', 'T' stopped, 'Z' zombie...),
// '\0' for a process that is gone. Async-signal-safe (open/read only).
char process_state(pid_t pid) {
  if (::kill(pid, 0) != 0 && errno == ESRCH) return '\0';
  char path[64] = "/proc/";
  {
    char num[24];
    int i = sizeof(num) - 1;
    num[i] = '\0';
    long long u = pid;
    do { num[--i] = static_cast<char>('0' + u % 10); u /= 10; } while (u && i > 0);
    std::strcat(path, num + i);
    std::strcat(path, "/stat");
  }
  int fd = ::open(path, O_RDONLY);
  if (fd < 0) return '\0';
  char buf[256];
  ssize_t n = ::read(fd, buf, sizeof(buf) - 1);
  ::close(fd);
  if (n <= 0) return '\0';
  buf[n] = '\0';
  const char* close_paren = std::strrchr(buf, ')');  // "pid (comm) S ..."
  if (!close_paren || close_paren[1] == '\0') return '?';
  return close_paren[2];
}

// A zombie still answers kill(pid, 0), hence the state.
bool process_dead(pid_t pid) {
  const char state = process_state(pid);
  return state == '\0' || state == 'Z' || state == 'X';
}

// "rank 1 (pid 4242), ..." for the same-host peers `pick` selects.
template <typename Pick>
std::string peers_where(Pick pick) {
  std::string out;
  for (int i = 0; i < g_npeers; ++i) {
    if (!pick(g_peer_pid[i])) continue;
    if (!out.empty()) out += ", ";
    out += "rank " + std::to_string(g_peer_rank[i]) + " (pid " + std::to_string(g_peer_pid[i]) + ")";
  }
  return out.empty() ? "none found on this host" : out;
}

void on_signal(int sig) {
  put("revive: rank ");
  put_int(g_rank);
  put(" (pid ");
  put_int(::getpid());
  put("): terminated by signal ");
  put_int(sig);
  const char* op = g_op.load();
  if (op) {
    put(" during ");
    put(op);
    put(" on ");
    put(g_group.load() ? g_group.load() : "?");
    put(" (collective #");
    put_int(static_cast<long long>(g_seq.load()));
    put(")");
  } else {
    put(" outside any collective");
  }
  if (const char* phase = g_phase.load()) {
    put(" in phase ");
    put(phase);
  }
  put("; dead peers:");
  bool any = false;
  for (int i = 0; i < g_npeers; ++i) {
    if (process_dead(g_peer_pid[i])) {
      put(" rank ");
      put_int(g_peer_rank[i]);
      put(" (pid ");
      put_int(g_peer_pid[i]);
      put(")");
      any = true;
    }
  }
  if (!any) put(" none found on this host");
  put("\n");
  ::_exit(128 + sig);
}

// REVIVE_FAULT_INJECT="rank=R,phase=NAME,signal=KILL|STOP", read once.
struct FaultPlan {
  int rank = -2;
  std::string phase;
  int signal = 0;
  int count = 1;  // on the phase's count-th entry
};
const FaultPlan& fault_plan() {
  static const FaultPlan plan = [] {
    FaultPlan p;
    const char* env = std::getenv("REVIVE_FAULT_INJECT");
    if (!env) return p;
    std::string spec(env);
    for (size_t at = 0; at <= spec.size();) {
      const size_t end = std::min(spec.find(',', at), spec.size());
      const std::string item = spec.substr(at, end - at);
      const size_t eq = item.find('=');
      const std::string key = item.substr(0, eq), value = eq == std::string::npos ? "" : item.substr(eq + 1);
      if (key == "rank") p.rank = std::atoi(value.c_str());
      else if (key == "phase") p.phase = value;
      else if (key == "signal") p.signal = value == "KILL" ? SIGKILL : value == "STOP" ? SIGSTOP : 0;
      else if (key == "count") p.count = std::max(1, std::atoi(value.c_str()));
      at = end + 1;
    }
    return p;
  }();
  return plan;
}

void maybe_inject_fault(const char* phase) {
  static std::atomic<int> entries{0};
  const FaultPlan& plan = fault_plan();
  if (plan.signal == 0 || plan.rank != g_rank || plan.phase != phase || ++entries != plan.count) return;
  put("revive: rank ");
  put_int(g_rank);
  put(": REVIVE_FAULT_INJECT: raising signal ");
  put_int(plan.signal);
  put(" in phase ");
  put(phase);
  put("\n");
  ::raise(plan.signal);
}

}  // namespace

void install(int world_rank, std::vector<Peer> peers) {
  g_rank = world_rank;
  g_npeers = 0;
  for (const Peer& p : peers) {
    if (!p.same_host || p.world_rank == world_rank || g_npeers == kMaxPeers) continue;
    g_peer_rank[g_npeers] = p.world_rank;
    g_peer_pid[g_npeers] = static_cast<pid_t>(p.pid);
    ++g_npeers;
  }
  struct sigaction sa;
  std::memset(&sa, 0, sizeof(sa));
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  for (int sig : {SIGTERM, SIGINT, SIGHUP}) sigaction(sig, &sa, nullptr);
}

Scope::Scope(const char* op, const char* group) {
  g_group.store(group);
  g_op.store(op);
  g_seq.fetch_add(1);
}
Scope::~Scope() { g_op.store(nullptr); }

Phase::Phase(const char* name) : outer_(g_phase.exchange(name)) { maybe_inject_fault(name); }
Phase::~Phase() { g_phase.store(outer_); }

const char* current_phase() {
  const char* p = g_phase.load();
  return p ? p : "";
}

std::string stopped_peers() {
  return peers_where([](pid_t pid) { return process_state(pid) == 'T'; });
}

std::string dead_peers() { return peers_where(process_dead); }

uint64_t sequence() { return g_seq.load(); }

}  // namespace revive::sharding::watchdog
