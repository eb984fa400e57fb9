#pragma once
// The "latest" pointer of a folder of run checkpoints (edits-N sub-folders): a
// small text file naming the newest complete one, replaced atomically by the
// sequential runner and read by resume and by `revive export`.
#include <string>

namespace revive::sharding {

// The folder name `pointer_file` holds, trailing whitespace (CRLF, a tab of a
// hand-written pointer) dropped; "" when the file does not exist. An empty
// pointer, or one holding anything but a folder name of lowercase letters,
// digits and '-', is damage: an InputError naming the file.
std::string read_latest_pointer(const std::string& pointer_file);

}  // namespace revive::sharding
