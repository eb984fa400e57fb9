// Randomized mutation test of the safetensors header parser: thousands of
// corrupted variants of a valid file (byte flips, truncations, insertions, lies
// in the length prefix, and structure-aware edits of the JSON that keep it
// parseable so the field checks are reached). Every variant must either be
// rejected with revive::InputError or be accepted with a header whose ranges
// are provably inside the file; accepted files are then read in full and in
// slices (under AddressSanitizer this shows no read strays out of bounds).
#include <ATen/ATen.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <memory>
#include <random>

#include "sharding/checkpoint/safetensors.h"
#include "sharding/checkpoint/safetensors_header.h"
#include "sharding/errors.h"
#include "tests/sharding/checkpoint/raw_safetensors.h"
#include "tests/support/fixtures.h"

namespace revive::sharding {
namespace {

namespace fs = std::filesystem;

constexpr int kByteMutations = 4000;
constexpr int kJsonMutations = 4000;
constexpr int kReadEvery = 8;  // also open through SafetensorsFile and read every 8th variant

std::string valid_safetensors_bytes(const std::string& dir) {
  at::manual_seed(3);
  const std::string p = (fs::path(dir) / "seed.safetensors").string();
  write_safetensors(p, {{"w", at::randn({4, 3})},
                        {"b", at::randn({3}).to(at::kBFloat16)},
                        {"h", at::randn({2, 2}).to(at::kHalf)},
                        {"i", at::arange(0, 4, at::kLong)},
                        {"s", at::scalar_tensor(1.5, at::kDouble)}},
                    {{"k", "v"}});
  // Without the writer's checksums: a damaged tensor then reads, so every
  // mutant that passes the header checks is read in full and in slices.
  const std::string bytes = revive::testing::read_bytes(p);
  uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = (n << 8) | static_cast<uint8_t>(bytes[i]);
  nlohmann::ordered_json header = nlohmann::ordered_json::parse(bytes.substr(8, n));
  header["__metadata__"].erase(kChecksumsMetadataKey);
  std::string text = header.dump();
  text.append((8 - text.size() % 8) % 8, ' ');
  return revive::testing::raw_safetensors(text, bytes.substr(8 + n));
}

struct MutationOutcome {
  int accepted = 0, rejected = 0;
};

// Checks the parser's verdict on `bytes`; on acceptance checks the header's
// invariants and, when `read_path` is given, reads every tensor from a file.
void check_safetensors_mutant(const std::string& bytes, const std::string& read_path, MutationOutcome& out) {
  const auto* data = reinterpret_cast<const uint8_t*>(bytes.data());
  const int64_t size = static_cast<int64_t>(bytes.size());
  SafetensorsHeader h;
  try {
    h = parse_safetensors_header(data, size, "mutant");
  } catch (const InputError& e) {
    EXPECT_EQ(e.file(), "mutant");
    ++out.rejected;
    return;
  }
  // Any other exception type escapes and fails the test.
  ++out.accepted;
  ASSERT_GE(h.data_offset, 8);
  ASSERT_EQ(h.data_offset + h.data_size, size);
  int64_t prev_end = 0;
  for (const TensorInfo& t : h.tensors) {
    int64_t numel = 1;
    for (int64_t d : t.shape) numel *= d;
    ASSERT_EQ(t.data_end - t.data_begin, numel * static_cast<int64_t>(c10::elementSize(t.dtype))) << t.name;
    ASSERT_LE(t.data_end, h.data_size) << t.name;
    ASSERT_GE(t.data_begin, prev_end) << t.name;
    prev_end = t.data_end;
  }
  if (read_path.empty()) return;
  revive::testing::write_bytes(read_path, bytes);
  // A checksum entry made up by a mutant refuses the file or its tensor: a
  // clean InputError too.
  std::unique_ptr<SafetensorsFile> f;
  try {
    f = std::make_unique<SafetensorsFile>(read_path);
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find(kChecksumsMetadataKey), std::string::npos) << e.what();
    return;
  }
  for (const TensorInfo& t : f->tensors()) {
    at::Tensor full;
    try {
      full = f->read(t.name, at::kDouble);
      ASSERT_EQ(full.sizes().vec(), t.shape);
    } catch (const InputError& e) {
      EXPECT_NE(std::string(e.what()).find("checksum"), std::string::npos) << e.what();
    }
    for (int64_t dim = 0; full.defined() && dim < static_cast<int64_t>(t.shape.size()); ++dim) {
      if (t.shape[dim] == 0) continue;
      const int64_t len = t.shape[dim] / 2 + 1;
      const at::Tensor s = f->read_slice(t.name, dim, t.shape[dim] - len, len, at::kDouble);
      ASSERT_TRUE(at::equal(s.nan_to_num(), full.narrow(dim, t.shape[dim] - len, len).nan_to_num())) << t.name;
    }
  }
}

TEST(SafetensorsMutationTest, RandomByteMutationsOnlyEverRaiseInputError) {
  const std::string dir = revive::testing::temp_dir("mutate");
  const std::string seed = valid_safetensors_bytes(dir);
  const std::string read_path = (fs::path(dir) / "m.safetensors").string();
  std::mt19937_64 rng(20240611);
  MutationOutcome out;
  for (int it = 0; it < kByteMutations; ++it) {
    std::string m = seed;
    const int edits = 1 + static_cast<int>(rng() % 4);
    for (int e = 0; e < edits && !m.empty(); ++e) {
      const size_t pos = rng() % m.size();
      switch (rng() % 7) {
        case 0: m[pos] = static_cast<char>(m[pos] ^ (1u << (rng() % 8))); break;  // bit flip
        case 1: m[pos] = static_cast<char>(rng()); break;                           // random byte
        case 2: m.resize(pos); break;                                                // truncate
        case 3: m.insert(pos, std::string(1 + rng() % 16, static_cast<char>(rng()))); break;
        case 4: m.erase(pos, 1 + rng() % 16); break;
        case 5: m[rng() % std::min<size_t>(8, m.size())] = static_cast<char>(rng()); break;  // length prefix
        case 6: {  // duplicate a chunk of the file elsewhere
          const size_t from = rng() % m.size();
          m.insert(pos, m.substr(from, 1 + rng() % 24));
          break;
        }
      }
    }
    check_safetensors_mutant(m, it % kReadEvery == 0 ? read_path : std::string(), out);
    if (::testing::Test::HasFatalFailure()) return;
  }
  EXPECT_EQ(out.accepted + out.rejected, kByteMutations);
  EXPECT_GT(out.rejected, 0);
  RecordProperty("accepted", out.accepted);
}

// Replaces one token of the header JSON (a number, a string or a whole value)
// with a hostile alternative and rebuilds the file with a truthful length, so
// the JSON stays well formed and the semantic checks are what is exercised.
TEST(SafetensorsMutationTest, StructureAwareHeaderMutationsOnlyEverRaiseInputError) {
  const std::string dir = revive::testing::temp_dir("mutate");
  const std::string seed = valid_safetensors_bytes(dir);
  uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = (n << 8) | static_cast<uint8_t>(seed[i]);
  const std::string header = seed.substr(8, n);
  const std::string data = seed.substr(8 + n);
  const std::string read_path = (fs::path(dir) / "j.safetensors").string();

  const std::vector<std::string> numbers = {"0", "1", "2", "3", "7", "8", "16", "-1", "1.5", "1e30",
                                            "9223372036854775807", "9223372036854775808",
                                            "18446744073709551615", "4611686018427387904", "true", "null"};
  const std::vector<std::string> strings = {"\"F32\"", "\"BF16\"", "\"F16\"", "\"I64\"", "\"U8\"", "\"BOOL\"",
                                            "\"F8_E4M3\"", "\"\"", "\"__metadata__\"", "\"w\"", "\"shape\"",
                                            "\"data_offsets\"", "\"dtype\"", "[]", "{}", "[1,2]", "[0,0]"};
  std::mt19937_64 rng(7);
  MutationOutcome out;
  for (int it = 0; it < kJsonMutations; ++it) {
    std::string h = header;
    const int edits = 1 + static_cast<int>(rng() % 3);
    for (int e = 0; e < edits; ++e) {
      // Find the token at a random position: a run of digits/sign, or a quoted string.
      size_t pos = rng() % h.size();
      const bool want_number = rng() % 2 == 0;
      size_t b = std::string::npos, len = 0;
      for (size_t k = 0; k < h.size(); ++k) {
        const size_t i = (pos + k) % h.size();
        if (want_number && (std::isdigit(static_cast<unsigned char>(h[i])) || h[i] == '-')) {
          b = i;
          while (b > 0 && std::isdigit(static_cast<unsigned char>(h[b - 1]))) --b;
          len = 0;
          while (b + len < h.size() && (std::isdigit(static_cast<unsigned char>(h[b + len])) || h[b + len] == '-')) ++len;
          break;
        }
        if (!want_number && h[i] == '"') {
          b = i;
          const size_t close = h.find('"', i + 1);
          if (close == std::string::npos) break;
          len = close - i + 1;
          break;
        }
      }
      if (b == std::string::npos || len == 0) continue;
      const auto& pool = want_number ? numbers : strings;
      h.replace(b, len, pool[rng() % pool.size()]);
    }
    // Sometimes also drop the data tail or append garbage.
    std::string d = data;
    if (rng() % 5 == 0) d.resize(rng() % (d.size() + 1));
    if (rng() % 7 == 0) d += std::string(rng() % 32, 'x');
    check_safetensors_mutant(revive::testing::raw_safetensors(h, d), it % kReadEvery == 0 ? read_path : std::string(), out);
    if (::testing::Test::HasFatalFailure()) return;
  }
  EXPECT_EQ(out.accepted + out.rejected, kJsonMutations);
  EXPECT_GT(out.rejected, 0);
  EXPECT_GT(out.accepted, 0);  // some edits (e.g. renaming a tensor) stay valid
  RecordProperty("accepted", out.accepted);
}

}  // namespace
}  // namespace revive::sharding
