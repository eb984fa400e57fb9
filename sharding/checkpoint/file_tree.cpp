#include "sharding/checkpoint/file_tree.h"

#include <ftw.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>

#include "sharding/errors.h"

namespace revive::sharding {

void refuse_directory(const std::string& path, const std::string& hint) {
  struct stat st;
  if (::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) {
    throw InputError(path, "", "is a directory" + (hint.empty() ? std::string() : " " + hint));
  }
}

std::string read_text_file(const std::string& path, const std::string& hint) {
  refuse_directory(path, hint);
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    throw InputError(path.empty() ? "(an empty path)" : path, "",
                     "cannot open" + (hint.empty() ? std::string() : " " + hint));
  }
  std::ostringstream s;
  s << in.rdbuf();
  if (in.bad()) throw InputError(path, "", "read failed");
  return s.str();
}

namespace {
int remove_entry(const char* path, const struct stat*, int type, struct FTW*) {
  // Children come first (FTW_DEPTH), so a folder is empty when its turn comes.
  return (type == FTW_DP ? ::rmdir(path) : ::unlink(path)) == 0 ? 0 : errno;
}
}  // namespace

void remove_tree(const std::string& path) {
  struct stat st;
  if (::lstat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) return;
    throw Error("cannot remove " + path + ": " + std::strerror(errno));
  }
  const int rc = ::nftw(path.c_str(), remove_entry, 16, FTW_DEPTH | FTW_PHYS);
  if (rc != 0) {
    const int err = rc > 0 ? rc : errno;
    throw Error("cannot remove " + path + ": " + std::strerror(err));
  }
}

}  // namespace revive::sharding
