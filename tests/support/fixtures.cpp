#include "tests/support/fixtures.h"

#include <cstdlib>
#include <filesystem>
#include <mutex>
#include <vector>

#include "sharding/checkpoint/file_tree.h"

namespace fs = std::filesystem;

namespace revive::testing {

std::string data_path(const std::string& relative) {
  const char* env = std::getenv("REVIVE_TEST_DATA");
  const fs::path root = env ? fs::path(env) : fs::path(REVIVE_DATA_DIR);
  const fs::path p = root / relative;
  std::error_code ec;
  return fs::exists(p, ec) ? fs::absolute(p).lexically_normal().string() : std::string();
}

namespace {
std::vector<fs::path>& temp_dirs() {
  static std::vector<fs::path> dirs;
  static bool registered = [] {
    std::atexit([] {
      // Best effort at exit; sharding::remove_tree rather than fs::remove_all
      // (see sharding/checkpoint/file_tree.h for why).
      for (const auto& d : temp_dirs()) {
        try {
          sharding::remove_tree(d.string());
        } catch (const std::exception&) {
        }
      }
    });
    return true;
  }();
  (void)registered;
  return dirs;
}
}  // namespace

std::string temp_dir(const std::string& tag) {
  static std::mutex mu;
  std::lock_guard<std::mutex> lock(mu);
  std::string templ = (fs::temp_directory_path() / ("revive-" + tag + "-XXXXXX")).string();
  std::vector<char> buf(templ.begin(), templ.end());
  buf.push_back('\0');
  const char* made = ::mkdtemp(buf.data());
  if (!made) throw std::runtime_error("mkdtemp failed for " + templ);
  temp_dirs().emplace_back(made);
  return made;
}

}  // namespace revive::testing
