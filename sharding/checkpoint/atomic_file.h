#pragma once
// A file written all-or-nothing: bytes go to a temporary file in the target's
// folder (same file system, so rename is atomic); commit() fsyncs it, renames it
// over the target and fsyncs the folder so the rename itself survives a crash.
// Destroyed without commit(), the temporary file is removed and the target is
// untouched. Failures throw revive::Error naming the path and the system error.
#include <cstdint>
#include <istream>
#include <string>

namespace revive::sharding {

class AtomicFile {
 public:
  explicit AtomicFile(std::string path);
  ~AtomicFile();
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;

  void write(const void* data, int64_t bytes);
  void commit();
  const std::string& temp_path() const { return temp_; }

 private:
  std::string path_, temp_;
  int fd_ = -1;
  bool committed_ = false;
};

// Removes the temporary files an AtomicFile of `path` leaves when its process
// is killed before commit(). Only for a path no other process writes now.
void remove_stale_temporaries(const std::string& path);

// Writes `text` to `path` atomically.
void write_file_atomic(const std::string& path, const std::string& text);

// Copies `bytes` bytes (< 0: everything left) from `in`'s position to `out`, in
// bounded chunks; a stream that ends early is an InputError naming `src`.
void copy_stream(std::istream& in, AtomicFile& out, int64_t bytes, const std::string& src);

// Copies `src` to `dst` byte for byte (streamed), atomically.
void copy_file_atomic(const std::string& src, const std::string& dst);

// fsync of one file or folder; throws Error naming it.
void fsync_path(const std::string& path);

}  // namespace revive::sharding
