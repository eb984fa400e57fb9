#include "lib/data/atomic_file.h"

#include "sharding/checkpoint/atomic_file.h"
#include "sharding/errors.h"

namespace revive::data {

// The atomic write itself is sharding's (temp file, fsync, rename, fsync
// folder); data files report failures as bad input about that path.
void write_file_atomic(const std::string& path, const std::string& contents) {
  try {
    sharding::write_file_atomic(path, contents);
  } catch (const InputError&) {
    throw;
  } catch (const Error& e) {
    throw InputError(path, "", e.what());
  }
}

}  // namespace revive::data
