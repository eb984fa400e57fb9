#include "sharding/checkpoint/atomic_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <vector>

#include "sharding/errors.h"

namespace revive::sharding {
namespace fs = std::filesystem;

namespace {
// The hidden temporary-name prefix of `target`'s writers (mkstemp adds six characters).
std::string temp_prefix(const fs::path& target) { return "." + target.filename().string() + ".tmp-"; }

[[noreturn]] void throw_io_error(const std::string& what, const std::string& path) {
  throw Error(what + " " + path + ": " + std::strerror(errno));
}
}  // namespace

AtomicFile::AtomicFile(std::string path) : path_(std::move(path)) {
  const fs::path target(path_);
  const fs::path dir = target.has_parent_path() ? target.parent_path() : fs::path(".");
  // A hidden name in the same folder; mkstemp makes it unique per writer.
  std::string templ = (dir / (temp_prefix(target) + "XXXXXX")).string();
  std::vector<char> buf(templ.begin(), templ.end());
  buf.push_back('\0');
  fd_ = ::mkstemp(buf.data());
  if (fd_ < 0) throw_io_error("cannot create a temporary file for", path_);
  temp_ = buf.data();
  // mkstemp creates 0600; a checkpoint gets the usual 0644 (subject to umask).
  const mode_t mask = ::umask(0);
  ::umask(mask);
  ::fchmod(fd_, 0666 & ~mask);
}

AtomicFile::~AtomicFile() {
  if (fd_ >= 0) ::close(fd_);
  if (!committed_ && !temp_.empty()) ::unlink(temp_.c_str());
}

void AtomicFile::write(const void* data, int64_t bytes) {
  const auto* p = static_cast<const char*>(data);
  while (bytes > 0) {
    const ssize_t n = ::write(fd_, p, static_cast<size_t>(bytes));
    if (n < 0) {
      if (errno == EINTR) continue;
      throw_io_error("cannot write", temp_);
    }
    p += n;
    bytes -= n;
  }
}

void AtomicFile::commit() {
  if (::fsync(fd_) != 0) throw_io_error("cannot fsync", temp_);
  if (::close(fd_) != 0) {
    fd_ = -1;
    throw_io_error("cannot close", temp_);
  }
  fd_ = -1;
  if (::rename(temp_.c_str(), path_.c_str()) != 0) throw_io_error("cannot rename the temporary file onto", path_);
  committed_ = true;
  const fs::path target(path_);
  fsync_path(target.has_parent_path() ? target.parent_path().string() : std::string("."));
}

void remove_stale_temporaries(const std::string& path) {
  const fs::path target(path);
  const fs::path dir = target.has_parent_path() ? target.parent_path() : fs::path(".");
  const std::string prefix = temp_prefix(target);
  std::error_code ec;
  for (const fs::directory_entry& e : fs::directory_iterator(dir, ec)) {
    const std::string name = e.path().filename().string();
    if (name.size() == prefix.size() + 6 && name.compare(0, prefix.size(), prefix) == 0) fs::remove(e.path(), ec);
  }
}

void write_file_atomic(const std::string& path, const std::string& text) {
  AtomicFile f(path);
  f.write(text.data(), static_cast<int64_t>(text.size()));
  f.commit();
}

void copy_stream(std::istream& in, AtomicFile& out, int64_t bytes, const std::string& src) {
  constexpr int64_t kChunk = int64_t{8} << 20;
  std::vector<char> buf(static_cast<size_t>(bytes < 0 ? kChunk : std::min(bytes, kChunk)));
  while (bytes != 0) {
    const int64_t want = bytes < 0 ? kChunk : std::min<int64_t>(bytes, static_cast<int64_t>(buf.size()));
    in.read(buf.data(), want);
    const int64_t got = in.gcount();
    if (in.bad()) throw InputError(src, "", "read failed");
    if (bytes > 0 && got != want) throw InputError(src, "", "shorter than expected");
    out.write(buf.data(), got);
    if (bytes > 0) bytes -= got;
    if (bytes < 0 && got < want) break;  // the end of the stream
  }
}

void copy_file_atomic(const std::string& src, const std::string& dst) {
  std::ifstream in(src, std::ios::binary);
  if (!in) throw InputError(src, "", "cannot open");
  AtomicFile out(dst);
  copy_stream(in, out, -1, src);
  out.commit();
}

void fsync_path(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw_io_error("cannot open", path);
  const int rc = ::fsync(fd);
  ::close(fd);
  if (rc != 0) throw_io_error("cannot fsync", path);
}

}  // namespace revive::sharding
