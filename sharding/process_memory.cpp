#include "sharding/process_memory.h"

#include <sys/resource.h>
#include <unistd.h>

#include <fstream>

namespace revive::sharding {

ProcessMemory process_memory() {
  ProcessMemory m;
  constexpr double kMiB = 1024.0 * 1024.0;
  // statm: total and resident sizes in pages.
  std::ifstream statm("/proc/self/statm");
  int64_t total_pages = 0, resident_pages = 0;
  if (statm >> total_pages >> resident_pages) {
    m.rss_mib = static_cast<double>(resident_pages) * static_cast<double>(sysconf(_SC_PAGESIZE)) / kMiB;
  }
  rusage usage{};
  if (getrusage(RUSAGE_SELF, &usage) == 0) m.peak_rss_mib = static_cast<double>(usage.ru_maxrss) / 1024.0;  // KiB
  return m;
}

}  // namespace revive::sharding
