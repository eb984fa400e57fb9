#include "sharding/comm/watchdog.h"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>

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

// A zombie still answers kill(pid, 0), so read its state from /proc too.
bool process_dead(pid_t pid) {
  if (::kill(pid, 0) != 0 && errno == ESRCH) return true;
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
  if (fd < 0) return true;
  char buf[256];
  ssize_t n = ::read(fd, buf, sizeof(buf) - 1);
  ::close(fd);
  if (n <= 0) return true;
  buf[n] = '\0';
  const char* close_paren = std::strrchr(buf, ')');  // "pid (comm) S ..."
  if (!close_paren || close_paren[1] == '\0') return false;
  char state = close_paren[2];
  return state == 'Z' || state == 'X';
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

std::string dead_peers() {
  std::string out;
  for (int i = 0; i < g_npeers; ++i) {
    if (process_dead(g_peer_pid[i])) {
      if (!out.empty()) out += ", ";
      out += "rank " + std::to_string(g_peer_rank[i]) + " (pid " + std::to_string(g_peer_pid[i]) + ")";
    }
  }
  return out.empty() ? "none found on this host" : out;
}

uint64_t sequence() { return g_seq.load(); }

}  // namespace revive::sharding::watchdog
