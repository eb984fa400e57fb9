#include "sharding/checkpoint/file_tree.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <string>

#include "sharding/errors.h"
#include "tests/support/fixtures.h"
#include "tests/support/input_error.h"

namespace revive::sharding {
namespace {

bool exists(const std::string& p) {
  struct stat st;
  return ::lstat(p.c_str(), &st) == 0;
}

void write(const std::string& p, const std::string& bytes) {
  std::ofstream(p, std::ios::binary) << bytes;
}

TEST(FileTree, ReadsEveryByte) {
  const std::string dir = testing::temp_dir("file-tree");
  const std::string bytes("a\0b\r\n\xff", 6);
  write(dir + "/f.bin", bytes);
  EXPECT_EQ(read_text_file(dir + "/f.bin"), bytes);
}

TEST(FileTree, MissingFileNamesThePathAndTheHint) {
  const std::string path = testing::temp_dir("file-tree") + "/absent.json";
  try {
    read_text_file(path, "(expected from `revive basis`)");
    FAIL() << "no error";
  } catch (const InputError& e) {
    EXPECT_EQ(e.file(), path);
    EXPECT_NE(std::string(e.what()).find("expected from `revive basis`"), std::string::npos) << e.what();
  }
}

// A folder opens as an empty stream on Linux; it must not read as an empty
// file. A device or pipe is read (a shell's <(...) is one).
TEST(FileTree, AFolderIsNotReadAsAFileButADeviceIs) {
  const std::string dir = testing::temp_dir("file-tree");
  ::revive::testing::expect_input_error([&] { read_text_file(dir); }, dir, "", "is a directory");
  EXPECT_EQ(read_text_file("/dev/null"), "");
  EXPECT_NO_THROW(refuse_directory(dir + "/absent"));  // the open that follows reports it
}

TEST(FileTree, RemovesANestedTreeButNotWhatALinkPointsTo) {
  const std::string dir = testing::temp_dir("file-tree");
  const std::string keep = dir + "/keep.txt";
  write(keep, "outside");
  const std::string root = dir + "/tree";
  ASSERT_EQ(::mkdir(root.c_str(), 0755), 0);
  ASSERT_EQ(::mkdir((root + "/a").c_str(), 0755), 0);
  ASSERT_EQ(::mkdir((root + "/a/b").c_str(), 0755), 0);
  write(root + "/a/b/deep.bin", "x");
  write(root + "/top.txt", "y");
  ASSERT_EQ(::symlink(keep.c_str(), (root + "/a/link").c_str()), 0);
  ASSERT_EQ(::symlink(dir.c_str(), (root + "/a/dirlink").c_str()), 0);

  remove_tree(root);
  EXPECT_FALSE(exists(root));
  EXPECT_EQ(read_text_file(keep), "outside");
}

TEST(FileTree, MissingPathIsNotAnErrorAndAPlainFileIsRemoved) {
  const std::string dir = testing::temp_dir("file-tree");
  EXPECT_NO_THROW(remove_tree(dir + "/never-there"));
  write(dir + "/f", "z");
  remove_tree(dir + "/f");
  EXPECT_FALSE(exists(dir + "/f"));
}

TEST(FileTree, AFolderItCannotEmptyIsAnErrorNamingIt) {
  if (::geteuid() == 0) GTEST_SKIP() << "root ignores folder permissions";
  const std::string dir = testing::temp_dir("file-tree");
  const std::string locked = dir + "/locked";
  ASSERT_EQ(::mkdir(locked.c_str(), 0755), 0);
  write(locked + "/f", "z");
  ASSERT_EQ(::chmod(locked.c_str(), 0555), 0);
  try {
    remove_tree(locked);
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("locked"), std::string::npos) << e.what();
  }
  ::chmod(locked.c_str(), 0755);
}

}  // namespace
}  // namespace revive::sharding
