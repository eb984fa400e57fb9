#include "sharding/checkpoint/atomic_folder.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <vector>

#include "sharding/checkpoint/atomic_file.h"
#include "sharding/checkpoint/file_tree.h"
#include "sharding/errors.h"

namespace revive::sharding {
namespace fs = std::filesystem;

namespace {
fs::path folder_parent(const fs::path& p) { return p.has_parent_path() ? p.parent_path() : fs::path("."); }

// The hidden sibling prefix of `target`'s temporary folders (mkdtemp adds six characters).
std::string partial_prefix(const fs::path& target) { return "." + target.filename().string() + ".partial-"; }

[[noreturn]] void throw_folder_error(const std::string& what, const std::string& path) {
  throw Error(what + " " + path + ": " + std::strerror(errno));
}

// A fresh empty hidden sibling of `target`: "<parent>/.<name><tag>XXXXXX".
std::string make_sibling_folder(const fs::path& target, const std::string& tag) {
  std::string templ = (folder_parent(target) / ("." + target.filename().string() + tag + "XXXXXX")).string();
  std::vector<char> buf(templ.begin(), templ.end());
  buf.push_back('\0');
  if (::mkdtemp(buf.data()) == nullptr) throw_folder_error("cannot create a temporary folder beside", target.string());
  ::chmod(buf.data(), 0755);
  return buf.data();
}
}  // namespace

AtomicFolder::AtomicFolder(std::string target, bool replace) : replace_(replace) {
  fs::path t(std::move(target));
  // "out/" names the folder "out": a trailing separator would leave an empty filename.
  if (!t.has_filename() && t.has_parent_path()) t = t.parent_path();
  target_ = t.string();
  struct stat st;
  if (::lstat(target_.c_str(), &st) == 0 && !replace_) {
    throw InputError(target_, "", "already exists: choose another folder, or replace it (--force)");
  }
  if (!fs::is_directory(folder_parent(t))) throw InputError(target_, "", "its parent folder does not exist");
  temp_ = make_sibling_folder(t, ".partial-");
}

AtomicFolder::~AtomicFolder() {
  if (committed_ || temp_.empty()) return;
  try {
    remove_tree(temp_);
  } catch (const Error&) {
    // A destructor must not throw; the hidden folder stays for remove_stale_partial_folders.
  }
}

void AtomicFolder::commit() {
  for (const fs::directory_entry& e : fs::recursive_directory_iterator(temp_)) {
    if (e.is_directory()) fsync_path(e.path().string());
  }
  fsync_path(temp_);
  const fs::path target(target_);
  std::string old;
  struct stat st;
  if (::lstat(target_.c_str(), &st) == 0) {
    if (!replace_) throw InputError(target_, "", "appeared while the folder was written: not replaced");
    old = make_sibling_folder(target, ".old-");
    // rename() onto an empty folder replaces it; the old target takes its place.
    if (::rename(target_.c_str(), old.c_str()) != 0) throw_folder_error("cannot move aside", target_);
  }
  if (::rename(temp_.c_str(), target_.c_str()) != 0) throw_folder_error("cannot rename the temporary folder onto", target_);
  committed_ = true;
  fsync_path(folder_parent(target).string());
  if (!old.empty()) remove_tree(old);
}

void remove_stale_partial_folders(const std::string& target) {
  fs::path t(target);
  if (!t.has_filename() && t.has_parent_path()) t = t.parent_path();
  const std::string prefix = partial_prefix(t);
  std::error_code ec;
  for (const fs::directory_entry& e : fs::directory_iterator(folder_parent(t), ec)) {
    const std::string name = e.path().filename().string();
    if (name.size() == prefix.size() + 6 && name.compare(0, prefix.size(), prefix) == 0) remove_tree(e.path().string());
  }
}

}  // namespace revive::sharding
