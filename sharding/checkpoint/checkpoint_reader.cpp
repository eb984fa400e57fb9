// CheckpointReader: a HF checkpoint folder, single-file or sharded with an
// index. Each distinct file is opened (mapped and validated) once, however many
// tensors the index assigns to it.
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <unordered_map>

#include "sharding/checkpoint/checkpoint_files.h"
#include "sharding/checkpoint/safetensors.h"
#include "sharding/checkpoint/file_tree.h"
#include "sharding/errors.h"

namespace revive::sharding {
namespace fs = std::filesystem;

std::string shard_file_name(int i, int n) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "model-%05d-of-%05d.safetensors", i + 1, n);
  return buf;
}

struct CheckpointReader::Impl {
  std::string folder;
  std::map<std::string, std::unique_ptr<SafetensorsFile>> files;  // by file name
  std::unordered_map<std::string, const SafetensorsFile*> owner;  // tensor -> file

  const SafetensorsFile& file_for(const std::string& name) const {
    const auto it = owner.find(name);
    if (it == owner.end()) throw InputError(folder, name, "tensor not found in the checkpoint");
    return *it->second;
  }
};

namespace {

nlohmann::json read_index(const std::string& path) {
  nlohmann::json j = nlohmann::json::parse(read_text_file(path), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) throw InputError(path, "", "not well-formed JSON");
  if (!j.is_object()) throw InputError(path, "", "expected a JSON object");
  const auto wm = j.find("weight_map");
  if (wm == j.end() || !wm->is_object()) throw InputError(path, "weight_map", "missing or not an object");
  return *wm;
}

// The index may only name files inside the folder.
bool plain_file_name(const std::string& f) {
  return !f.empty() && f != "." && f != ".." && f.find('/') == std::string::npos &&
         f.find('\\') == std::string::npos;
}

}  // namespace

CheckpointReader::CheckpointReader(const std::string& folder) : impl_(std::make_unique<Impl>()) {
  impl_->folder = folder;
  std::error_code ec;
  const fs::path dir(folder);
  if (fs::is_regular_file(dir, ec)) {  // one .safetensors file given directly
    auto file = std::make_unique<SafetensorsFile>(folder);
    for (const auto& t : file->tensors()) impl_->owner[t.name] = file.get();
    impl_->files[dir.filename().string()] = std::move(file);
    return;
  }
  if (!fs::is_directory(dir, ec)) throw InputError(folder, "", "no such checkpoint folder or file");

  const fs::path index = dir / kIndexFileName;
  if (fs::exists(index, ec)) {
    const std::string ipath = index.string();
    const nlohmann::json wm = read_index(ipath);
    for (const auto& [name, value] : wm.items()) {
      if (!value.is_string() || !plain_file_name(value.get<std::string>())) {
        throw InputError(ipath, "weight_map." + name, "expected a file name in the folder, got " + value.dump());
      }
      const std::string fname = value.get<std::string>();
      auto& slot = impl_->files[fname];
      if (!slot) slot = std::make_unique<SafetensorsFile>((dir / fname).string());
      if (!slot->contains(name)) {
        throw InputError(ipath, "weight_map." + name, "tensor is not in " + fname);
      }
      impl_->owner[name] = slot.get();
    }
    return;
  }
  const fs::path single = dir / kSingleFileName;
  if (!fs::exists(single, ec)) {
    throw InputError(folder, "", std::string("neither ") + kSingleFileName + " nor " + kIndexFileName + " found");
  }
  auto file = std::make_unique<SafetensorsFile>(single.string());
  for (const auto& t : file->tensors()) impl_->owner[t.name] = file.get();
  impl_->files[kSingleFileName] = std::move(file);
}

CheckpointReader::~CheckpointReader() = default;

const std::string& CheckpointReader::folder() const { return impl_->folder; }

const std::string& CheckpointReader::file_of(const std::string& name) const { return impl_->file_for(name).path(); }

std::vector<std::string> CheckpointReader::files() const {
  std::vector<std::string> out;
  for (const auto& f : impl_->files) out.push_back(f.second->path());
  return out;
}

std::vector<std::string> CheckpointReader::names() const {
  std::vector<std::string> out;
  out.reserve(impl_->owner.size());
  for (const auto& o : impl_->owner) out.push_back(o.first);
  std::sort(out.begin(), out.end());
  return out;
}

bool CheckpointReader::contains(const std::string& name) const { return impl_->owner.count(name) > 0; }

const TensorInfo& CheckpointReader::info(const std::string& name) const {
  return impl_->file_for(name).info(name);
}

at::Tensor CheckpointReader::read(const std::string& name, at::ScalarType dtype) const {
  return impl_->file_for(name).read(name, dtype);
}

at::Tensor CheckpointReader::read_slice(const std::string& name, int64_t dim, int64_t start, int64_t length,
                                        at::ScalarType dtype) const {
  return impl_->file_for(name).read_slice(name, dim, start, length, dtype);
}

}  // namespace revive::sharding
