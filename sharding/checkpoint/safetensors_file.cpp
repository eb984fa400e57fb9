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
#include <unordered_map>

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
  std::unordered_map<std::string, uint64_t> checksums;  // the writer's, when it recorded them
  // Tensors already verified: a slice read checks its whole tensor once.
  std::unique_ptr<std::atomic<bool>[]> verified;

  void verify(const TensorInfo& ti, const uint8_t* src) const {
    const auto sum = checksums.find(ti.name);
    if (sum == checksums.end()) return;
    std::atomic<bool>& done = verified[index.at(ti.name)];
    if (done.load()) return;
    if (data_checksum(src, static_cast<size_t>(ti.data_end - ti.data_begin)) != sum->second) {
      throw InputError(path, ti.name,
                       "its bytes differ from the checksum written with the file: the file is damaged (or was "
                       "rewritten by a tool that kept REVIVE's checksums)");
    }
    done.store(true);
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
  impl_->verified = std::make_unique<std::atomic<bool>[]>(impl_->header.tensors.size());
  const auto sums = impl_->header.metadata.find(kChecksumsMetadataKey);
  if (sums != impl_->header.metadata.end()) {
    const std::string field = std::string("__metadata__.") + kChecksumsMetadataKey;
    const StrictJson parsed = parse_json_strict(sums->second);
    const nlohmann::json& j = parsed.value;
    if (!parsed.ok() || !j.is_object()) {
      throw InputError(path, field, "expected a JSON object of tensor checksums" +
                                        (parsed.ok() ? std::string() : " (" + parsed.error + ")"));
    }
    for (const auto& [name, v] : j.items()) {
      const std::string hex = v.is_string() ? v.get<std::string>() : "";
      if (hex.size() != 16 || hex.find_first_not_of("0123456789abcdef") != std::string::npos || !contains(name)) {
        throw InputError(path, field + "." + name, "expected 16 hex digits of a tensor in the file, got " + v.dump());
      }
      impl_->checksums[name] = std::stoull(hex, nullptr, 16);
    }
  }
}

SafetensorsFile::~SafetensorsFile() = default;

const std::string& SafetensorsFile::path() const { return impl_->path; }
const std::vector<TensorInfo>& SafetensorsFile::tensors() const { return impl_->header.tensors; }
const std::map<std::string, std::string>& SafetensorsFile::metadata() const { return impl_->header.metadata; }

bool SafetensorsFile::contains(const std::string& name) const { return impl_->index.count(name) > 0; }

const TensorInfo& SafetensorsFile::info(const std::string& name) const {
  const auto it = impl_->index.find(name);
  if (it == impl_->index.end()) throw InputError(impl_->path, name, "tensor not found");
  return impl_->header.tensors[it->second];
}

at::Tensor SafetensorsFile::read(const std::string& name, at::ScalarType dtype) const {
  const TensorInfo& ti = info(name);
  const uint8_t* src = impl_->map + impl_->header.data_offset + ti.data_begin;
  impl_->verify(ti, src);
  const int64_t extent = ti.shape.empty() ? 1 : ti.shape[0];
  return copy_slice(src, ti, 0, 0, extent).to(dtype);
}

at::Tensor SafetensorsFile::read_slice(const std::string& name, int64_t dim, int64_t start, int64_t length,
                                       at::ScalarType dtype) const {
  const TensorInfo& ti = info(name);
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
  const uint8_t* src = impl_->map + impl_->header.data_offset + ti.data_begin;
  impl_->verify(ti, src);
  return copy_slice(src, ti, dim, start, length).to(dtype);
}

}  // namespace revive::sharding
