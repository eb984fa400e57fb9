// remove_stale_temporaries: the temporaries a killed writer of one path leaves
// are removed, and nothing else in the folder. copy_stream / copy_file_atomic:
// every byte across chunk boundaries, a short source is an error naming it.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "sharding/checkpoint/atomic_file.h"
#include "sharding/checkpoint/file_tree.h"
#include "sharding/errors.h"
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

TEST(AtomicFileCopy, CopiesEveryByteAcrossChunksAndRefusesAShortSource) {
  const std::string dir = revive::testing::temp_dir("atomic-copy");
  std::string bytes((size_t{9} << 20) + 5, '\0');  // past one 8 MiB chunk
  for (size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<char>((i * 131) % 251);
  write_file_atomic(dir + "/src.bin", bytes);
  copy_file_atomic(dir + "/src.bin", dir + "/dst.bin");
  EXPECT_TRUE(read_text_file(dir + "/dst.bin") == bytes);
  std::istringstream in("0123456789");
  in.seekg(2);
  {
    AtomicFile out(dir + "/part.bin");
    copy_stream(in, out, 5, "in");
    out.commit();
  }
  EXPECT_EQ(read_text_file(dir + "/part.bin"), "23456");
  AtomicFile more(dir + "/more.bin");
  EXPECT_THROW(copy_stream(in, more, 10, "in"), InputError);  // 3 bytes left
  EXPECT_THROW(copy_file_atomic(dir + "/none.bin", dir + "/x.bin"), InputError);
}

}  // namespace
}  // namespace revive::sharding
