#include "sharding/checkpoint/content_hash.h"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "sharding/errors.h"

namespace revive::sharding {

ContentHash& ContentHash::bytes(const void* data, size_t size) {
  const auto* p = static_cast<const unsigned char*>(data);
  for (size_t i = 0; i < size; ++i) {
    h_ ^= p[i];
    h_ *= 0x100000001b3ull;
  }
  return *this;
}

ContentHash& ContentHash::text(const std::string& s) {
  number(s.size());
  return bytes(s.data(), s.size());
}

ContentHash& ContentHash::number(uint64_t v) {
  unsigned char b[8];
  for (int i = 0; i < 8; ++i) b[i] = static_cast<unsigned char>(v >> (8 * i));
  return bytes(b, 8);
}

uint64_t data_checksum(const void* data, size_t size) {
  constexpr uint64_t kPrime = 0x100000001b3ull;
  const auto* p = static_cast<const unsigned char*>(data);
  uint64_t h = 0xcbf29ce484222325ull ^ static_cast<uint64_t>(size);
  size_t i = 0;
  for (; i + 8 <= size; i += 8) {
    uint64_t w;
    std::memcpy(&w, p + i, 8);
    h = (h ^ w) * kPrime;
  }
  for (; i < size; ++i) h = (h ^ p[i]) * kPrime;
  return h ^ (h >> 29);  // fold high bits down: a multiply carries only upward
}

std::string hex64(uint64_t v) {
  char buf[17];
  std::snprintf(buf, sizeof(buf), "%016llx", static_cast<unsigned long long>(v));
  return buf;
}

std::string ContentHash::hex() const { return hex64(h_); }

void hash_files(ContentHash& h, const std::vector<std::string>& paths) {
  constexpr uint64_t kWhole = 8ull << 20, kEdge = 4ull << 20, kBlock = 64ull << 10;
  constexpr int kBlocks = 64;
  std::vector<char> buf;
  for (const std::string& path : paths) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw InputError(path, "", "cannot open file to fingerprint it");
    const uint64_t size = std::filesystem::file_size(path);
    h.text(std::filesystem::path(path).filename().string()).number(size);
    auto add = [&](uint64_t offset, uint64_t len) {
      buf.resize(len);
      in.seekg(static_cast<std::streamoff>(offset));
      in.read(buf.data(), static_cast<std::streamsize>(len));
      if (static_cast<uint64_t>(in.gcount()) != len) throw InputError(path, "", "short read while fingerprinting");
      h.bytes(buf.data(), len);
    };
    if (size <= kWhole) {
      add(0, size);
      continue;
    }
    add(0, kEdge);
    add(size - kEdge, kEdge);
    for (int i = 0; i < kBlocks; ++i) {
      const uint64_t at = kEdge + (size - 2 * kEdge - kBlock) / (kBlocks - 1) * static_cast<uint64_t>(i);
      add(at, kBlock);
    }
  }
}

std::string fingerprint_checkpoint(const std::string& folder) {
  namespace fs = std::filesystem;
  std::vector<std::string> files;
  if (fs::is_directory(folder)) {
    for (const auto& e : fs::directory_iterator(folder)) {
      if (e.path().extension() == ".safetensors") files.push_back(e.path().string());
    }
  }
  if (files.empty()) throw InputError(folder, "", "no *.safetensors file to fingerprint");
  std::sort(files.begin(), files.end());
  if (fs::exists(fs::path(folder) / "config.json")) files.insert(files.begin(), (fs::path(folder) / "config.json").string());
  ContentHash h;
  hash_files(h, files);
  return h.hex();
}

}  // namespace revive::sharding
