#pragma once
// Content fingerprints for cache keys (layer statistics, protected bases): a
// 64-bit FNV-1a hash over bytes, and a fingerprint of files that reads a bounded
// amount of each (the whole file up to 8 MiB; beyond that the first and last
// 4 MiB plus 64 evenly spaced 64 KiB blocks, and the size). Sampling keeps
// fingerprinting a 100 GB checkpoint cheap; a change confined to unsampled bytes
// of a large file goes unnoticed, which is why caches also record what they were
// computed from and the tools print it.
#include <cstdint>
#include <string>
#include <vector>

namespace revive::sharding {

class ContentHash {
 public:
  ContentHash& bytes(const void* data, size_t size);
  ContentHash& text(const std::string& s);  // length-prefixed, so "ab"+"c" != "a"+"bc"
  ContentHash& number(uint64_t v);
  uint64_t value() const { return h_; }
  std::string hex() const;  // 16 hex digits

 private:
  uint64_t h_ = 0xcbf29ce484222325ull;
};

// 16 lower-case hex digits.
std::string hex64(uint64_t v);

// A fast integrity checksum of a buffer (8-byte words through FNV-1a's
// multiply, then the tail bytes; seeded with the size). Each step is a
// bijection of the state, so any single changed word always changes it. It
// catches a damaged file, not an adversary, and is no cache key.
uint64_t data_checksum(const void* data, size_t size);

// Adds each file's name (without directory), size and sampled content. Throws
// revive::InputError naming the file when it cannot be read.
void hash_files(ContentHash& h, const std::vector<std::string>& paths);

// Fingerprint of a Hugging Face checkpoint folder: config.json and every
// *.safetensors file (sorted by name), as hex. Throws InputError when the folder
// holds no safetensors file.
std::string fingerprint_checkpoint(const std::string& folder);

}  // namespace revive::sharding
