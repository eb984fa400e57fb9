#pragma once
// safetensors files and HF checkpoint folders.
//
// Reader: memory-maps the file; every header field is validated (8-byte length
// within the file, JSON well formed, dtype known, shape x dtype size == byte
// range, ranges inside the data section and non-overlapping) and a violation is
// a revive::InputError naming the file and the tensor/field. A rank reads only
// the slice it owns.
// Stored dtypes: BOOL, U8, I8, I16, I32, I64, F16, BF16, F32, F64; reads
// convert to the requested dtype. Offsets and shapes are trusted only after
// validation, so a hostile file yields an InputError, never a wild read.
// Writer: atomic (temp file in the same folder, fsync, rename, fsync folder),
// `__metadata__` (always with "format": "pt", which HF's loaders require, and
// "revive_checksums": a JSON object of each tensor's data_checksum() as 16 hex
// digits). The first read of a tensor (whole or a slice) verifies all of its
// bytes against the checksum when the file records one, so a damaged
// checkpoint, statistics cache or basis cache is an InputError naming the file
// and tensor, never silently used. Files written elsewhere (HF checkpoints)
// carry no checksums and read as before, at no cost.
#include <ATen/core/Tensor.h>

#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace revive::sharding {

struct TensorInfo {
  std::string name;
  at::ScalarType dtype;         // stored dtype
  std::vector<int64_t> shape;
  int64_t data_begin = 0;       // byte offsets within the data section
  int64_t data_end = 0;
};

class SafetensorsFile {
 public:
  explicit SafetensorsFile(const std::string& path);  // throws InputError
  ~SafetensorsFile();
  SafetensorsFile(const SafetensorsFile&) = delete;
  SafetensorsFile& operator=(const SafetensorsFile&) = delete;

  const std::string& path() const;
  const std::vector<TensorInfo>& tensors() const;
  bool contains(const std::string& name) const;
  const TensorInfo& info(const std::string& name) const;  // throws InputError if missing
  const std::map<std::string, std::string>& metadata() const;

  // Whole tensor converted to `dtype` (bf16/f16/f32/f64/i64 stored types).
  at::Tensor read(const std::string& name, at::ScalarType dtype) const;
  // Only [start, start+length) along `dim`, converted to `dtype`.
  at::Tensor read_slice(const std::string& name, int64_t dim, int64_t start, int64_t length,
                        at::ScalarType dtype) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// A HF checkpoint folder: model.safetensors, or shards listed by
// model.safetensors.index.json (each file opened once).
class CheckpointReader {
 public:
  // `folder`: a checkpoint folder (an index takes precedence over
  // model.safetensors), or the path of one .safetensors file.
  explicit CheckpointReader(const std::string& folder);
  ~CheckpointReader();
  const std::string& folder() const;
  // The file that holds `name` (full path), for error messages.
  const std::string& file_of(const std::string& name) const;
  // Every file opened, in name order.
  std::vector<std::string> files() const;
  std::vector<std::string> names() const;  // sorted
  bool contains(const std::string& name) const;
  // A name absent from the checkpoint is an InputError naming the folder and it.
  const TensorInfo& info(const std::string& name) const;
  at::Tensor read(const std::string& name, at::ScalarType dtype) const;
  at::Tensor read_slice(const std::string& name, int64_t dim, int64_t start, int64_t length,
                        at::ScalarType dtype) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

using NamedTensors = std::vector<std::pair<std::string, at::Tensor>>;

// The __metadata__ key of the writer's checksums (reserved: metadata passed
// to the writers must not use it).
inline constexpr const char* kChecksumsMetadataKey = "revive_checksums";

// Writes one file atomically. Tensors are stored in their own dtype.
void write_safetensors(const std::string& path, const NamedTensors& tensors,
                       const std::map<std::string, std::string>& metadata = {});

// Writes a checkpoint folder: one model.safetensors, or when max_shard_bytes > 0
// and the tensors exceed it, model-0000i-of-0000n.safetensors files plus
// model.safetensors.index.json. Every file atomic.
void write_checkpoint(const std::string& folder, const NamedTensors& tensors, int64_t max_shard_bytes = 0,
                      const std::map<std::string, std::string>& metadata = {});

}  // namespace revive::sharding
