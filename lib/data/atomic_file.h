#pragma once
// Writes a whole file atomically: the bytes go to a temporary file in the same
// folder, which is fsync'ed and renamed over `path`. A reader never sees a half
// written file, and a crash leaves either the old file or the new one.
#include <string>

namespace revive::data {

// Throws revive::InputError(path, "", reason) on any failure; the temporary is removed.
void write_file_atomic(const std::string& path, const std::string& contents);

}  // namespace revive::data
