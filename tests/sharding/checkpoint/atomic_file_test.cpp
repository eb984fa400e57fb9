// remove_stale_temporaries: the temporaries a killed writer of one path leaves
// are removed, and nothing else in the folder.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "sharding/checkpoint/atomic_file.h"
#include "tests/support/fixtures.h"

namespace revive::sharding {
namespace {

namespace fs = std::filesystem;

TEST(AtomicFileTemporaries, OnlyThePathsOwnLeftoversAreRemoved) {
  const std::string dir = revive::testing::temp_dir("atomic-stale");
  const std::string file = dir + "/f.bin";
  write_file_atomic(file, "kept");
  std::string orphan;
  {
    AtomicFile writer(file);  // stands for a process killed before commit()
    writer.write("half", 4);
    orphan = writer.temp_path();
    ASSERT_TRUE(fs::exists(orphan));
    for (const char* other : {"/.g.bin.tmp-abcdef", "/.f.bin.tmp-abcdefg", "/f.bin.tmp-abcdef"}) {
      std::ofstream(dir + other) << "x";
    }
    remove_stale_temporaries(file);
    EXPECT_FALSE(fs::exists(orphan));
  }
  EXPECT_TRUE(fs::exists(file));
  for (const char* other : {"/.g.bin.tmp-abcdef", "/.f.bin.tmp-abcdefg", "/f.bin.tmp-abcdef"}) {
    EXPECT_TRUE(fs::exists(dir + other)) << other;
  }
}

}  // namespace
}  // namespace revive::sharding
