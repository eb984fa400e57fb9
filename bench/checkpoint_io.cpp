// bench_checkpoint_io: what the per-tensor checksums of REVIVE-written
// safetensors cost. Writes one float32 tensor, reads it twice through
// SafetensorsFile (the first read verifies the checksum, the second does not:
// a tensor is verified once), and times data_checksum against memcpy over the
// same bytes. Prints one JSON object; compare the ratios, not the seconds.
//   bench_checkpoint_io [--mib M (default 256)] [--dir D (default /tmp)]
#include <ATen/ATen.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <functional>
#include <iostream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "sharding/checkpoint/content_hash.h"
#include "sharding/checkpoint/safetensors.h"

namespace {

double seconds_of(const std::function<void()>& f) {
  const auto t0 = std::chrono::steady_clock::now();
  f();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

int main(int argc, char** argv) {
  int64_t mib = 256;
  std::string dir = "/tmp";
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string a = argv[i];
    if (a == "--mib") mib = std::stoll(argv[i + 1]);
    else if (a == "--dir") dir = argv[i + 1];
    else {
      std::cerr << "unknown option " << a << "\n";
      return 2;
    }
  }
  const int64_t n = mib * (1 << 20) / 4;
  const at::Tensor t = at::randn({n}, at::kFloat);
  const size_t bytes = static_cast<size_t>(n) * 4;
  const std::string path = (std::filesystem::path(dir) / "revive-bench-checkpoint-io.safetensors").string();

  const double write_s = seconds_of([&] { revive::sharding::write_safetensors(path, {{"t", t}}); });
  double first_s = 0, second_s = 0;
  {
    const revive::sharding::SafetensorsFile f(path);
    f.read("t", at::kFloat);  // pages in the file, so both timed reads come from the page cache
    const revive::sharding::SafetensorsFile g(path);
    first_s = seconds_of([&] { g.read("t", at::kFloat); });
    second_s = seconds_of([&] { g.read("t", at::kFloat); });
  }
  std::filesystem::remove(path);

  std::vector<unsigned char> copy(bytes);
  std::memset(copy.data(), 0, bytes);  // touch the pages before timing
  const double memcpy_s = seconds_of([&] { std::memcpy(copy.data(), t.data_ptr(), bytes); });
  volatile uint64_t sink = 0;
  const double checksum_s = seconds_of([&] { sink = revive::sharding::data_checksum(t.data_ptr(), bytes); });
  (void)sink;

  nlohmann::json j;
  j["bench"] = "checkpoint_io";
  j["bytes"] = bytes;
  j["write_s"] = write_s;
  j["first_read_s"] = first_s;
  j["second_read_s"] = second_s;
  j["checksum_share_of_first_read"] = first_s > 0 ? (first_s - second_s) / first_s : 0.0;
  j["checksum_gb_per_s"] = bytes / checksum_s / 1e9;
  j["memcpy_gb_per_s"] = bytes / memcpy_s / 1e9;
  j["checksum_over_memcpy_time"] = checksum_s / memcpy_s;
  std::cout << j.dump() << std::endl;
  return 0;
}
