// The writer's per-tensor checksums: a damaged byte in a REVIVE-written file
// is an InputError naming the file and tensor on its tensor's first read; files
// without checksums (written elsewhere) read as before.
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <fstream>
#include <string>

#include "sharding/checkpoint/content_hash.h"
#include "sharding/checkpoint/safetensors.h"
#include "sharding/errors.h"
#include "tests/support/fixtures.h"

namespace revive::sharding {
namespace {

// Flips one bit of the byte `from_end` bytes before the end of the file (the
// last tensor's data).
void flip_byte_from_end(const std::string& path, std::streamoff from_end) {
  std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
  f.seekg(-from_end, std::ios::end);
  char c = 0;
  f.read(&c, 1);
  c = static_cast<char>(c ^ 0x10);
  f.seekp(-from_end, std::ios::end);
  f.write(&c, 1);
}

TEST(SafetensorsChecksum, ADamagedByteIsRefusedNamingTheTensor) {
  const std::string path = revive::testing::temp_dir("checksum") + "/t.safetensors";
  const at::Tensor a = at::arange(12, at::kFloat).view({3, 4});
  const at::Tensor b = at::arange(6, at::kDouble);
  write_safetensors(path, {{"a", a}, {"b", b}}, {{"run", "1"}});
  {
    const SafetensorsFile f(path);
    EXPECT_TRUE(at::equal(f.read("b", at::kDouble), b));
    EXPECT_EQ(f.metadata().at("run"), "1");
    EXPECT_EQ(f.metadata().count(kChecksumsMetadataKey), 1u);
  }
  flip_byte_from_end(path, 3);  // inside b
  // A slice of the damaged tensor is refused too: its first read checks all of it.
  EXPECT_THROW(SafetensorsFile(path).read_slice("b", 0, 0, 1, at::kDouble), InputError);
  const SafetensorsFile f(path);
  EXPECT_TRUE(at::equal(f.read("a", at::kFloat), a));  // untouched tensors still read
  try {
    f.read("b", at::kDouble);
    ADD_FAILURE() << "a damaged tensor was read";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
    EXPECT_EQ(e.field(), "b");
  }
}

TEST(SafetensorsChecksum, TheChecksumKeyIsReservedAndValidated) {
  const std::string dir = revive::testing::temp_dir("checksum-key");
  EXPECT_THROW(write_safetensors(dir + "/r.safetensors", {{"a", at::ones({2})}}, {{kChecksumsMetadataKey, "{}"}}),
               Error);
  // A hand-written file whose checksum entry is not 16 hex digits of a tensor it holds.
  const std::string bad = dir + "/bad.safetensors";
  const std::string header = R"({"__metadata__":{"revive_checksums":"{\"a\":\"xyz\"}"},)"
                             R"("a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})";
  std::ofstream out(bad, std::ios::binary);
  const uint64_t n = header.size();
  for (int i = 0; i < 8; ++i) out.put(static_cast<char>(n >> (8 * i)));
  out << header;
  out.write("\0\0\0\0", 4);
  out.close();
  try {
    SafetensorsFile f(bad);
    ADD_FAILURE() << "a malformed checksum entry was accepted";
  } catch (const InputError& e) {
    EXPECT_EQ(e.field(), std::string("__metadata__.") + kChecksumsMetadataKey + ".a");
  }
}

TEST(SafetensorsChecksum, AnyChangedWordChangesTheChecksum) {
  std::vector<unsigned char> buf(61);
  for (size_t i = 0; i < buf.size(); ++i) buf[i] = static_cast<unsigned char>(i * 37);
  const uint64_t base = data_checksum(buf.data(), buf.size());
  EXPECT_NE(data_checksum(buf.data(), buf.size() - 1), base);
  for (size_t i = 0; i < buf.size(); ++i) {
    for (int bit : {0, 7}) {
      buf[i] ^= static_cast<unsigned char>(1 << bit);
      EXPECT_NE(data_checksum(buf.data(), buf.size()), base) << "byte " << i << " bit " << bit;
      buf[i] ^= static_cast<unsigned char>(1 << bit);
    }
  }
}

}  // namespace
}  // namespace revive::sharding
