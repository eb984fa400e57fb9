#pragma once
// Whole-file reads and folder removal, with errors that name the path.
//
// remove_tree exists because std::filesystem::remove_all cannot be trusted in a
// process that also loads PyTorch's pip LibTorch: libtorch.so exports its own
// copies of some std::filesystem symbols, and the dynamic linker may bind ours
// to them (measured: a jump to address 0 at exit on the GPU machine).
#include <string>

namespace revive::sharding {

// The whole file as bytes. Missing or unreadable -> InputError(path, "", "cannot
// open" + hint), so a caller can say what the file was supposed to be.
// A folder is refused as refuse_directory does.
std::string read_text_file(const std::string& path, const std::string& hint = "");

// Throws InputError(path, "", "is a directory") for a folder: it opens as an
// empty stream on Linux and would otherwise read as an empty file. Pipes and
// devices pass (`--requests <(jq -c ...)`), and so does a missing path (the
// open that follows reports it).
void refuse_directory(const std::string& path, const std::string& hint = "");

// Removes `path` and everything below it (symlinks are removed, not followed).
// A missing path is not an error; any other failure throws Error naming the path.
void remove_tree(const std::string& path);

}  // namespace revive::sharding
