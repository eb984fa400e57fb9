// write_safetensors / write_checkpoint: the safetensors format as the HF
// libraries write it (metadata first, tensors in the given order, header padded
// with spaces to 8 bytes so the data section is aligned), every file atomic.
#include <ATen/ATen.h>
#include <nlohmann/json.hpp>

#include <cstdio>
#include <filesystem>
#include <set>

#include "sharding/checkpoint/atomic_file.h"
#include "sharding/checkpoint/checkpoint_files.h"
#include "sharding/checkpoint/content_hash.h"
#include "sharding/checkpoint/safetensors.h"
#include "sharding/checkpoint/safetensors_header.h"
#include "sharding/checkpoint/safetensors_dtype.h"
#include "sharding/errors.h"

namespace revive::sharding {
namespace fs = std::filesystem;

namespace {

// HF's loaders check for this entry (they refuse files without a known format).
constexpr const char* kFormatKey = "format";
constexpr const char* kFormatPt = "pt";

int64_t tensor_bytes(const at::Tensor& t) {
  return t.numel() * static_cast<int64_t>(t.element_size());
}

}  // namespace

void write_safetensors(const std::string& path, const NamedTensors& tensors,
                       const std::map<std::string, std::string>& metadata) {
  nlohmann::ordered_json header = nlohmann::ordered_json::object();
  nlohmann::ordered_json meta = nlohmann::ordered_json::object();
  meta[kFormatKey] = kFormatPt;
  header["__metadata__"] = nullptr;  // first, as HF writes it; filled once the checksums are known
  for (const auto& [k, v] : metadata) {
    if (k == kChecksumsMetadataKey) throw Error("write_safetensors " + path + ": metadata key '" + k + "' is reserved");
    meta[k] = v;
  }

  std::vector<at::Tensor> data;
  data.reserve(tensors.size());
  nlohmann::ordered_json checksums = nlohmann::ordered_json::object();
  std::set<std::string> seen;
  int64_t offset = 0;
  for (const auto& [name, tensor] : tensors) {
    if (name == "__metadata__" || name.empty()) throw Error("write_safetensors " + path + ": invalid tensor name '" + name + "'");
    if (!seen.insert(name).second) throw Error("write_safetensors " + path + ": duplicate tensor name '" + name + "'");
    if (!tensor.defined()) throw Error("write_safetensors " + path + ": tensor '" + name + "' is undefined");
    at::Tensor t = tensor.detach().to(at::kCPU).contiguous();
    const int64_t bytes = tensor_bytes(t);
    header[name] = {{"dtype", safetensors_dtype_code(t.scalar_type())},
                    {"shape", t.sizes().vec()},
                    {"data_offsets", {offset, offset + bytes}}};
    offset += bytes;
    checksums[name] = hex64(data_checksum(t.data_ptr(), static_cast<size_t>(bytes)));
    data.push_back(std::move(t));
  }
  meta[kChecksumsMetadataKey] = checksums.dump();
  header["__metadata__"] = meta;

  std::string text = header.dump();
  text.append((8 - text.size() % 8) % 8, ' ');
  uint8_t len[8];
  encode_header_length(text.size(), len);

  AtomicFile file(path);
  file.write(len, 8);
  file.write(text.data(), static_cast<int64_t>(text.size()));
  for (const at::Tensor& t : data) file.write(t.data_ptr(), tensor_bytes(t));
  file.commit();
}

void write_checkpoint(const std::string& folder, const NamedTensors& tensors, int64_t max_shard_bytes,
                      const std::map<std::string, std::string>& metadata) {
  fs::create_directories(folder);
  const fs::path dir(folder);
  int64_t total = 0;
  for (const auto& nt : tensors) total += tensor_bytes(nt.second);

  std::error_code ec;
  if (max_shard_bytes <= 0 || total <= max_shard_bytes) {
    write_safetensors((dir / kSingleFileName).string(), tensors, metadata);
    // A stale index would take precedence over the new file when reading.
    fs::remove(dir / kIndexFileName, ec);
    return;
  }

  // Greedy packing in the given order (as HF's save_pretrained does): a tensor
  // larger than the limit gets a file of its own.
  std::vector<NamedTensors> shards(1);
  int64_t current = 0;
  for (const auto& nt : tensors) {
    const int64_t bytes = tensor_bytes(nt.second);
    if (!shards.back().empty() && current + bytes > max_shard_bytes) {
      shards.emplace_back();
      current = 0;
    }
    shards.back().push_back(nt);
    current += bytes;
  }

  nlohmann::ordered_json index;
  index["metadata"] = {{"total_size", total}};
  for (const auto& [k, v] : metadata) index["metadata"][k] = v;
  std::map<std::string, std::string> weight_map;  // sorted by name, as HF writes it
  const int n = static_cast<int>(shards.size());
  for (int i = 0; i < n; ++i) {
    const std::string file = shard_file_name(i, n);
    write_safetensors((dir / file).string(), shards[i], metadata);
    for (const auto& nt : shards[i]) weight_map[nt.first] = file;
  }
  index["weight_map"] = weight_map;
  write_file_atomic((dir / kIndexFileName).string(), index.dump(2) + "\n");
  // A stale single file would confuse readers that look for it first.
  fs::remove(dir / kSingleFileName, ec);
}

}  // namespace revive::sharding
