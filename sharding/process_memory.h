#pragma once
// Resident memory of this process, for run metrics: long runs must show that
// memory stays flat (sequential editing at 20,000 edits, layer statistics).
#include <cstdint>

namespace revive::sharding {

struct ProcessMemory {
  double rss_mib = 0;       // resident now (/proc/self/statm); 0 where unknown
  double peak_rss_mib = 0;  // high-water mark since start (getrusage ru_maxrss)
};

ProcessMemory process_memory();

}  // namespace revive::sharding
