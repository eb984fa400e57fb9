// SafetensorsFile: a memory-mapped, validated safetensors file. Reads copy only
// the bytes of the requested tensor (or slice of it) out of the mapping, so a
// rank touches just the pages it owns.
#include <ATen/ATen.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <optional>
#include <unordered_map>
#include <vector>

#include "sharding/checkpoint/content_hash.h"
#include "sharding/checkpoint/safetensors.h"
#include "sharding/checkpoint/safetensors_header.h"
#include "sharding/checkpoint/strict_json.h"
#include "sharding/errors.h"

namespace revive::sharding {

struct SafetensorsFile::Impl {
  std::string path;
  const uint8_t* map = nullptr;
  int64_t size = 0;
  SafetensorsHeader header;
  std::unordered_map<std::string, size_t> index;  // name -> header.tensors position
  // Per tensor position: the writer's checksum (when it recorded one), and
  // whether the bytes were verified (a slice read checks its whole tensor once).
  std::vector<std::optional<uint64_t>> checksums;
  std::unique_ptr<std::atomic<bool>[]> verified;

  size_t position(const std::string& name) const {
    const auto it = index.find(name);
    if (it == index.end()) throw InputError(path, name, "tensor not found");
    return it->second;
  }

  // The bytes of tensor `i` in the mapping, verified on their first access.
  const uint8_t* bytes(size_t i) const {
    const TensorInfo& ti = header.tensors[i];
    const uint8_t* src = map + header.data_offset + ti.data_begin;
    if (checksums[i] && !verified[i].load()) {
      if (data_checksum(src, static_cast<size_t>(ti.data_end - ti.data_begin)) != *checksums[i]) {
        throw InputError(path, ti.name,
                         "its bytes differ from the checksum written with the file: the file is damaged (or was "
                         "rewritten by a tool that kept REVIVE's checksums)");
      }
      verified[i].store(true);
    }
    return src;
  }

  // The writer's "revive_checksums" entry, when the file has one.
  void load_checksums() {
    checksums.assign(header.tensors.size(), std::nullopt);
    verified = std::make_unique<std::atomic<bool>[]>(header.tensors.size());
    const auto sums = header.metadata.find(kChecksumsMetadataKey);
    if (sums == header.metadata.end()) return;
    const std::string field = std::string("__metadata__.") + kChecksumsMetadataKey;
    const StrictJson parsed = parse_json_strict(sums->second);
    if (!parsed.ok() || !parsed.value.is_object()) {
      throw InputError(path, field, "expected a JSON object of tensor checksums" +
                                        (parsed.ok() ? std::string() : " (" + parsed.error + ")"));
    }
    for (const auto& [name, v] : parsed.value.items()) {
      const std::string hex = v.is_string() ? v.get<std::string>() : "";
      const auto it = index.find(name);
      if (hex.size() != 16 || hex.find_first_not_of("0123456789abcdef") != std::string::npos || it == index.end()) {
        throw InputError(path, field + "." + name, "expected 16 hex digits of a tensor in the file, got " + v.dump());
      }
      checksums[it->second] = std::stoull(hex, nullptr, 16);
    }
  }

  ~Impl() {
    if (map) ::munmap(const_cast<uint8_t*>(map), static_cast<size_t>(size));
  }
};

namespace {

std::string errno_text() { return std::strerror(errno); }

// Copies [start, start+length) along `dim` of a row-major tensor stored at
// `src` into a new tensor of the stored dtype: `outer` runs of `length * inner`
// contiguous elements each.
at::Tensor copy_slice_raw(const uint8_t* src, const TensorInfo& info, int64_t dim, int64_t start, int64_t length,
                          at::ScalarType stored) {
  std::vector<int64_t> shape = info.shape;
  const int64_t elem = static_cast<int64_t>(c10::elementSize(stored));
  at::Tensor out;
  if (shape.empty()) {  // a scalar: dim is ignored
    out = at::empty({}, at::TensorOptions().dtype(stored));
    std::memcpy(out.data_ptr(), src, static_cast<size_t>(elem));
    return out;
  }
  int64_t outer = 1, inner = 1;
  for (int64_t d = 0; d < dim; ++d) outer *= shape[d];
  for (int64_t d = dim + 1; d < static_cast<int64_t>(shape.size()); ++d) inner *= shape[d];
  const int64_t extent = shape[dim];
  shape[dim] = length;
  out = at::empty(shape, at::TensorOptions().dtype(stored));
  const int64_t run = length * inner * elem;
  if (run == 0 || outer == 0) return out;
  auto* dst = static_cast<uint8_t*>(out.data_ptr());
  for (int64_t o = 0; o < outer; ++o) {
    std::memcpy(dst + o * run, src + (o * extent + start) * inner * elem, static_cast<size_t>(run));
  }
  return out;
}

at::Tensor copy_slice(const uint8_t* src, const TensorInfo& info, int64_t dim, int64_t start, int64_t length) {
  // A BOOL byte other than 0/1 is not a valid C++ bool: copy the bytes and
  // normalise rather than hand LibTorch invalid values.
  if (info.dtype == at::kBool) return copy_slice_raw(src, info, dim, start, length, at::kByte).ne(0);
  return copy_slice_raw(src, info, dim, start, length, info.dtype);
}

}  // namespace

SafetensorsFile::SafetensorsFile(const std::string& path) : impl_(std::make_unique<Impl>()) {
  impl_->path = path;
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw InputError(path, "", "cannot open: " + errno_text());
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    throw InputError(path, "", "not a regular file");
  }
  impl_->size = static_cast<int64_t>(st.st_size);
  if (impl_->size >= 8) {  // mmap of 0 bytes fails; shorter files are rejected by the parser below
    void* m = ::mmap(nullptr, static_cast<size_t>(impl_->size), PROT_READ, MAP_PRIVATE, fd, 0);
    if (m == MAP_FAILED) {
      const std::string why = errno_text();
      ::close(fd);
      throw InputError(path, "", "cannot mmap: " + why);
    }
    impl_->map = static_cast<const uint8_t*>(m);
  }
  ::close(fd);  // the mapping stays valid without the descriptor
  uint8_t empty[1] = {0};
  impl_->header = parse_safetensors_header(impl_->map ? impl_->map : empty, impl_->size, path);
  for (size_t i = 0; i < impl_->header.tensors.size(); ++i) impl_->index.emplace(impl_->header.tensors[i].name, i);
  impl_->load_checksums();
}

SafetensorsFile::~SafetensorsFile() = default;

const std::string& SafetensorsFile::path() const { return impl_->path; }
const std::vector<TensorInfo>& SafetensorsFile::tensors() const { return impl_->header.tensors; }
const std::map<std::string, std::string>& SafetensorsFile::metadata() const { return impl_->header.metadata; }

bool SafetensorsFile::contains(const std::string& name) const { return impl_->index.count(name) > 0; }

const TensorInfo& SafetensorsFile::info(const std::string& name) const {
  return impl_->header.tensors[impl_->position(name)];
}

at::Tensor SafetensorsFile::read(const std::string& name, at::ScalarType dtype) const {
  const size_t i = impl_->position(name);
  const TensorInfo& ti = impl_->header.tensors[i];
  const int64_t extent = ti.shape.empty() ? 1 : ti.shape[0];
  return copy_slice(impl_->bytes(i), ti, 0, 0, extent).to(dtype);
}

at::Tensor SafetensorsFile::read_slice(const std::string& name, int64_t dim, int64_t start, int64_t length,
                                       at::ScalarType dtype) const {
  const size_t i = impl_->position(name);
  const TensorInfo& ti = impl_->header.tensors[i];
  const int64_t ndim = static_cast<int64_t>(ti.shape.size());
  if (dim < 0 || dim >= ndim) {
    throw InputError(impl_->path, name, "slice dim " + std::to_string(dim) + " of a " + std::to_string(ndim) +
                                            "-d tensor");
  }
  if (start < 0 || length < 0 || start > ti.shape[dim] - length) {
    throw InputError(impl_->path, name, "slice [" + std::to_string(start) + ", +" + std::to_string(length) +
                                            ") outside dim " + std::to_string(dim) + " of extent " +
                                            std::to_string(ti.shape[dim]));
  }
  return copy_slice(impl_->bytes(i), ti, dim, start, length).to(dtype);
}

}  // namespace revive::sharding
