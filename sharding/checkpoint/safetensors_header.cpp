#include "sharding/checkpoint/safetensors_header.h"

#include <c10/util/Exception.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstring>
#include <limits>

#include "sharding/checkpoint/safetensors_dtype.h"
#include "sharding/checkpoint/strict_json.h"
#include "sharding/errors.h"

namespace revive::sharding {
namespace {

using nlohmann::json;

// A valid header nests three levels (object, entry, shape array); anything far
// deeper is garbage and is refused before it costs memory.
constexpr int kMaxDepth = 16;

// Duplicate keys are refused too: two entries must not claim one name.
json parse_header_json(const char* begin, const char* end, const std::string& path) {
  StrictJson parsed = parse_json_strict(std::string_view(begin, static_cast<std::size_t>(end - begin)), kMaxDepth);
  if (!parsed.ok()) {
    throw InputError(path, parsed.error_path.empty() ? "header" : parsed.error_path, parsed.error);
  }
  return std::move(parsed.value);
}

// A JSON value as a non-negative int64, or an InputError.
int64_t as_offset(const json& v, const std::string& path, const std::string& field) {
  if (!v.is_number_unsigned() && !(v.is_number_integer() && v.get<int64_t>() >= 0)) {
    throw InputError(path, field, "expected a non-negative integer, got " + v.dump());
  }
  const uint64_t u = v.get<uint64_t>();
  if (u > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
    throw InputError(path, field, "value " + std::to_string(u) + " is too large");
  }
  return static_cast<int64_t>(u);
}

TensorInfo parse_entry(const std::string& name, const json& entry, int64_t data_size, const std::string& path) {
  if (!entry.is_object()) throw InputError(path, name, "expected an object with dtype, shape, data_offsets");
  TensorInfo info;
  info.name = name;

  const auto dtype_it = entry.find("dtype");
  if (dtype_it == entry.end() || !dtype_it->is_string()) {
    throw InputError(path, name + ".dtype", "missing or not a string");
  }
  const auto dtype = scalar_type_from_safetensors(dtype_it->get<std::string>());
  if (!dtype) throw InputError(path, name + ".dtype", "unknown dtype '" + dtype_it->get<std::string>() + "'");
  info.dtype = *dtype;

  const auto shape_it = entry.find("shape");
  if (shape_it == entry.end() || !shape_it->is_array()) {
    throw InputError(path, name + ".shape", "missing or not an array");
  }
  // The element count is computed with overflow checks: a hostile shape must
  // not wrap around to a small, seemingly consistent byte count.
  int64_t bytes = static_cast<int64_t>(c10::elementSize(info.dtype));
  for (const auto& d : *shape_it) {
    const int64_t extent = as_offset(d, path, name + ".shape");
    info.shape.push_back(extent);
    if (__builtin_mul_overflow(bytes, extent, &bytes)) {
      throw InputError(path, name + ".shape", "shape " + shape_it->dump() + " overflows the byte count");
    }
  }

  const auto off_it = entry.find("data_offsets");
  if (off_it == entry.end() || !off_it->is_array() || off_it->size() != 2) {
    throw InputError(path, name + ".data_offsets", "missing or not a [begin, end] pair");
  }
  info.data_begin = as_offset((*off_it)[0], path, name + ".data_offsets");
  info.data_end = as_offset((*off_it)[1], path, name + ".data_offsets");
  if (info.data_end < info.data_begin) {
    throw InputError(path, name + ".data_offsets", "end " + std::to_string(info.data_end) + " is before begin " +
                                                       std::to_string(info.data_begin));
  }
  if (info.data_end - info.data_begin != bytes) {
    throw InputError(path, name + ".data_offsets",
                     "byte range [" + std::to_string(info.data_begin) + ", " + std::to_string(info.data_end) +
                         ") holds " + std::to_string(info.data_end - info.data_begin) + " bytes but shape " +
                         shape_it->dump() + " of " + dtype_it->get<std::string>() + " needs " +
                         std::to_string(bytes));
  }
  if (info.data_end > data_size) {
    throw InputError(path, name + ".data_offsets",
                     "byte range ends at " + std::to_string(info.data_end) + ", past the data section of " +
                         std::to_string(data_size) + " bytes");
  }
  return info;
}

}  // namespace

uint64_t decode_header_length(const uint8_t* prefix) {
  uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = (n << 8) | prefix[i];
  return n;
}

void encode_header_length(uint64_t length, uint8_t* prefix) {
  for (int i = 0; i < 8; ++i) prefix[i] = static_cast<uint8_t>(length >> (8 * i));
}

SafetensorsHeader parse_safetensors_header(const uint8_t* bytes, int64_t size, const std::string& path) {
  if (size < 8) {
    throw InputError(path, "header length", "truncated: the file has " + std::to_string(size) +
                                                " bytes, fewer than the 8-byte header length");
  }
  const uint64_t n = decode_header_length(bytes);
  if (n > static_cast<uint64_t>(size - 8)) {
    throw InputError(path, "header length", "header length " + std::to_string(n) +
                                                " runs past the end of the file (" + std::to_string(size) +
                                                " bytes)");
  }
  if (static_cast<int64_t>(n) > kMaxSafetensorsHeaderBytes) {
    throw InputError(path, "header length", "header length " + std::to_string(n) + " exceeds the limit of " +
                                                std::to_string(kMaxSafetensorsHeaderBytes) + " bytes");
  }
  SafetensorsHeader header;
  header.data_offset = 8 + static_cast<int64_t>(n);
  header.data_size = size - header.data_offset;

  const char* text = reinterpret_cast<const char*>(bytes + 8);
  const json j = parse_header_json(text, text + n, path);
  if (!j.is_object()) throw InputError(path, "header", "expected a JSON object, got " + std::string(j.type_name()));

  for (const auto& [key, value] : j.items()) {
    if (key == "__metadata__") {
      if (!value.is_object()) throw InputError(path, "__metadata__", "expected an object of strings");
      for (const auto& [mk, mv] : value.items()) {
        if (!mv.is_string()) throw InputError(path, "__metadata__." + mk, "expected a string, got " + mv.dump());
        header.metadata[mk] = mv.get<std::string>();
      }
      continue;
    }
    header.tensors.push_back(parse_entry(key, value, header.data_size, path));
  }

  std::sort(header.tensors.begin(), header.tensors.end(), [](const TensorInfo& a, const TensorInfo& b) {
    return a.data_begin != b.data_begin ? a.data_begin < b.data_begin : a.data_end < b.data_end;
  });
  for (size_t i = 1; i < header.tensors.size(); ++i) {
    const TensorInfo& prev = header.tensors[i - 1];
    const TensorInfo& cur = header.tensors[i];
    if (cur.data_begin < prev.data_end) {
      throw InputError(path, cur.name + ".data_offsets",
                       "byte range [" + std::to_string(cur.data_begin) + ", " + std::to_string(cur.data_end) +
                           ") overlaps tensor '" + prev.name + "' [" + std::to_string(prev.data_begin) + ", " +
                           std::to_string(prev.data_end) + ")");
    }
  }
  return header;
}

}  // namespace revive::sharding
