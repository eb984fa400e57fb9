#pragma once
// A folder written all-or-nothing, as AtomicFile is for one file: its contents
// go to a hidden temporary sibling (same file system, so the rename is atomic);
// commit() fsyncs the temporary folder, renames it onto the target and fsyncs
// the parent, so a reader (or a crash) sees the old state or the whole new
// folder, never part of it. Destroyed without commit(), the temporary folder
// is removed. A process killed before commit() leaves only the hidden sibling
// (".<name>.partial-XXXXXX"), which remove_stale_partial_folders() clears.
//
// An existing target is refused at construction unless `replace`: then commit()
// moves the old folder aside, renames the new one in and removes the old one
// (a crash between those two renames leaves no folder at the target, and the
// old one as ".<name>.old-XXXXXX" beside it). Failures throw revive::Error
// naming the path and the system error.
#include <string>

namespace revive::sharding {

class AtomicFolder {
 public:
  AtomicFolder(std::string target, bool replace);
  ~AtomicFolder();
  AtomicFolder(const AtomicFolder&) = delete;
  AtomicFolder& operator=(const AtomicFolder&) = delete;

  // Where to write the folder's contents until commit().
  const std::string& temp_path() const { return temp_; }
  const std::string& target() const { return target_; }
  void commit();

 private:
  std::string target_, temp_;
  bool replace_ = false;
  bool committed_ = false;
};

// Removes the temporary folders an AtomicFolder of `target` left when its
// process was killed before commit(). Only for a target no other process writes now.
void remove_stale_partial_folders(const std::string& target);

}  // namespace revive::sharding
