#pragma once
// Parsing and validation of a safetensors header, separate from file access so
// that it can be hammered with mutated bytes in tests.
//
// Layout of a file: an 8-byte little-endian length N, N bytes of JSON (an
// object mapping tensor names to {"dtype", "shape", "data_offsets"} plus an
// optional "__metadata__" object of strings), then the data section. Offsets
// are relative to the data section.
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "sharding/checkpoint/safetensors.h"

namespace revive::sharding {

struct SafetensorsHeader {
  std::vector<TensorInfo> tensors;  // sorted by data_begin (file order)
  std::map<std::string, std::string> metadata;
  int64_t data_offset = 0;  // file offset of the data section (8 + N)
  int64_t data_size = 0;    // bytes of the data section
};

// Largest header accepted (the reference implementation's limit): bounds the
// memory a hostile length field can make us parse.
constexpr int64_t kMaxSafetensorsHeaderBytes = int64_t{100} << 20;

// The 8-byte little-endian header length every safetensors file starts with,
// read from / written to `prefix` (the same on every host).
uint64_t decode_header_length(const uint8_t* prefix);
void encode_header_length(uint64_t length, uint8_t* prefix);

// Validates `bytes` (the whole file, `size` bytes) and returns its header.
// Every violation is a revive::InputError naming `path` and the field:
// the length prefix, JSON syntax, duplicate keys, each tensor's dtype, shape
// and data_offsets (shape x element size == byte range, range inside the data
// section), overlapping ranges, and __metadata__ values.
SafetensorsHeader parse_safetensors_header(const uint8_t* bytes, int64_t size, const std::string& path);

}  // namespace revive::sharding
