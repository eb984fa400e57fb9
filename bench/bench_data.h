#pragma once
// Where the benchmarks find ../shared/data's fixtures: $REVIVE_TEST_DATA, else
// ../shared/data from the working directory (as the tests, tests/support/fixtures.h).
#include <cstdlib>
#include <string>

namespace revive::bench {

inline std::string data_dir() {
  const char* env = std::getenv("REVIVE_TEST_DATA");
  return env != nullptr ? env : "../shared/data";
}

// stories260K and the TinyStories head the editing benchmarks use by default.
inline std::string stories_model_dir() { return data_dir() + "/stories260K-hf"; }
inline std::string stories_corpus() { return data_dir() + "/text_corpora/tinystories_head_2MiB.txt"; }

}  // namespace revive::bench
