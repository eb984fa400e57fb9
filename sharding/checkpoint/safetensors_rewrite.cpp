#include "sharding/checkpoint/safetensors_rewrite.h"

#include <ATen/ATen.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <fstream>
#include <vector>

#include "sharding/checkpoint/atomic_file.h"
#include "sharding/checkpoint/content_hash.h"
#include "sharding/checkpoint/safetensors_header.h"
#include "sharding/errors.h"

namespace revive::sharding {
namespace {

// The header text with each replaced tensor's checksum updated, or unchanged
// when the file records no checksums.
std::string updated_header(const std::string& header, const std::map<std::string, std::string>& new_sums,
                           const std::string& src) {
  nlohmann::ordered_json h = nlohmann::ordered_json::parse(header);
  if (!h.contains("__metadata__") || !h["__metadata__"].contains(kChecksumsMetadataKey)) return header;
  auto& meta = h["__metadata__"];
  nlohmann::ordered_json sums = nlohmann::ordered_json::parse(meta[kChecksumsMetadataKey].get<std::string>());
  for (const auto& [name, sum] : new_sums) {
    if (!sums.contains(name)) throw InputError(src, "__metadata__." + std::string(kChecksumsMetadataKey), "lacks " + name);
    sums[name] = sum;
  }
  meta[kChecksumsMetadataKey] = sums.dump();
  std::string text = h.dump();
  text.append((8 - text.size() % 8) % 8, ' ');
  return text;
}

at::Tensor checked_replacement(const TensorInfo& info, const TensorReplacement& replacement, const std::string& src) {
  at::Tensor t = replacement(info).detach().to(at::kCPU).contiguous();
  if (t.scalar_type() != info.dtype) {
    throw Error("rewrite " + src + ": replacement of " + info.name + " is " + c10::toString(t.scalar_type()) +
                ", the file stores " + c10::toString(info.dtype));
  }
  if (t.sizes().vec() != info.shape) throw Error("rewrite " + src + ": replacement of " + info.name + " has another shape");
  return t;
}

}  // namespace

void rewrite_safetensors(const std::string& src, const std::string& dst, const std::set<std::string>& replaced,
                         const TensorReplacement& replacement) {
  const SafetensorsFile file(src);  // validates the header
  for (const std::string& name : replaced) file.info(name);  // an unknown name is an InputError
  std::ifstream in(src, std::ios::binary);
  if (!in) throw InputError(src, "", "cannot open");
  uint8_t len[8];
  in.read(reinterpret_cast<char*>(len), 8);
  const uint64_t n = decode_header_length(len);
  std::string header(n, '\0');
  in.read(header.data(), static_cast<std::streamsize>(n));
  if (static_cast<uint64_t>(in.gcount()) != n) throw InputError(src, "", "truncated header");

  // Replacements come first (one at a time) when checksums must be updated in
  // the header: a checksum is known only once its tensor is. Otherwise they
  // stream in file order, memory bounded by one tensor.
  std::vector<TensorInfo> order = file.tensors();
  std::sort(order.begin(), order.end(), [](const TensorInfo& a, const TensorInfo& b) { return a.data_begin < b.data_begin; });
  std::map<std::string, std::string> sums;
  const bool has_sums = file.metadata().count(kChecksumsMetadataKey) > 0;
  if (has_sums) {
    for (const TensorInfo& info : order) {
      if (!replaced.count(info.name)) continue;
      const at::Tensor t = checked_replacement(info, replacement, src);
      sums[info.name] = hex64(data_checksum(t.data_ptr(), static_cast<size_t>(info.data_end - info.data_begin)));
    }
  }
  const std::string new_header = has_sums ? updated_header(header, sums, src) : header;

  AtomicFile out(dst);
  uint8_t new_len[8];
  encode_header_length(new_header.size(), new_len);
  out.write(new_len, 8);
  out.write(new_header.data(), static_cast<int64_t>(new_header.size()));
  int64_t pos = 0;  // within the data section
  for (const TensorInfo& info : order) {
    copy_stream(in, out, info.data_begin - pos, src);  // bytes between tensors, if any
    if (replaced.count(info.name)) {
      const at::Tensor t = checked_replacement(info, replacement, src);
      out.write(t.data_ptr(), info.data_end - info.data_begin);
      in.seekg(info.data_end - info.data_begin, std::ios::cur);
    } else {
      copy_stream(in, out, info.data_end - info.data_begin, src);
    }
    pos = info.data_end;
  }
  // Whatever follows the last tensor (nothing, in files written by the usual writers).
  copy_stream(in, out, -1, src);
  out.commit();
}

}  // namespace revive::sharding
