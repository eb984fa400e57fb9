#pragma once
// Test helpers that build safetensors bytes by hand, so malformed files can be
// produced without going through the (validating) writer.
#include <cstdint>
#include <fstream>
#include <string>
#include <vector>

namespace revive::testing {

// The 8-byte little-endian length prefix followed by `header` and `data`.
// `length` overrides the prefix (to lie about the header size).
inline std::string raw_safetensors(const std::string& header, const std::string& data, int64_t length = -1) {
  const uint64_t n = length < 0 ? header.size() : static_cast<uint64_t>(length);
  std::string out(8, '\0');
  for (int i = 0; i < 8; ++i) out[i] = static_cast<char>((n >> (8 * i)) & 0xff);
  return out + header + data;
}

inline void write_bytes(const std::string& path, const std::string& bytes) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

inline std::string read_bytes(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
}

}  // namespace revive::testing
