#include "sharding/checkpoint/latest_pointer.h"

#include <cctype>
#include <filesystem>

#include "sharding/checkpoint/file_tree.h"
#include "sharding/errors.h"

namespace revive::sharding {

std::string read_latest_pointer(const std::string& pointer_file) {
  if (!std::filesystem::exists(pointer_file)) return "";
  std::string name = read_text_file(pointer_file);
  while (!name.empty() && std::isspace(static_cast<unsigned char>(name.back()))) name.pop_back();
  // Written atomically, so an empty pointer is damage, not "no checkpoint yet".
  if (name.empty()) throw InputError(pointer_file, "", "empty: it should name the latest checkpoint folder");
  // Checkpoint folders are named edits-N; anything else (a NUL byte, a path) is damage.
  if (name.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789-") != std::string::npos) {
    std::string shown;
    for (unsigned char c : name.substr(0, 64)) shown += std::isprint(c) ? static_cast<char>(c) : '?';
    throw InputError(pointer_file, "", "holds '" + shown + "', not the name of a checkpoint folder (edits-N)");
  }
  return name;
}

}  // namespace revive::sharding
