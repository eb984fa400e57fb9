// write_checkpoint + CheckpointReader: single-file and sharded round trips,
// the HF index format, malformed indexes, and the real stories260K folder.
#include <ATen/ATen.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <set>

#include "sharding/checkpoint/safetensors.h"
#include "sharding/errors.h"
#include "tests/sharding/checkpoint/raw_safetensors.h"
#include "tests/support/fixtures.h"
#include "tests/support/input_error.h"

namespace revive::sharding {
namespace {

using ::revive::testing::expect_input_error;

namespace fs = std::filesystem;

NamedTensors sample_tensors() {
  at::manual_seed(7);
  return {
      {"model.embed_tokens.weight", at::randn({10, 8})},             // 320 bytes
      {"model.layers.0.mlp.up_proj.weight", at::randn({6, 8})},      // 192
      {"model.layers.0.mlp.down_proj.weight", at::randn({8, 6})},    // 192
      {"model.norm.weight", at::randn({8}).to(at::kBFloat16)},       // 16
      {"big", at::randn({30, 10})},                                  // 1200, over the limit alone
      {"steps", at::arange(0, 5, at::kLong)},                        // 40
  };
}

void expect_reads_back(const CheckpointReader& r, const NamedTensors& tensors) {
  std::vector<std::string> expected;
  for (const auto& [name, t] : tensors) {
    expected.push_back(name);
    EXPECT_TRUE(at::equal(r.read(name, t.scalar_type()), t)) << name;
  }
  std::sort(expected.begin(), expected.end());
  EXPECT_EQ(r.names(), expected);
}

TEST(CheckpointReaderTest, SingleFileRoundTrip) {
  const std::string dir = revive::testing::temp_dir("ckpt");
  const NamedTensors tensors = sample_tensors();
  write_checkpoint(dir, tensors, /*max_shard_bytes=*/0, {{"run", "1"}});
  EXPECT_TRUE(fs::exists(fs::path(dir) / "model.safetensors"));
  EXPECT_FALSE(fs::exists(fs::path(dir) / "model.safetensors.index.json"));
  CheckpointReader r(dir);
  EXPECT_EQ(r.files().size(), 1u);
  expect_reads_back(r, tensors);
  // The limit is not reached: still one file.
  write_checkpoint(dir, tensors, 1 << 20);
  EXPECT_EQ(CheckpointReader(dir).files().size(), 1u);
  // A file path works as well as a folder.
  expect_reads_back(CheckpointReader((fs::path(dir) / "model.safetensors").string()), tensors);
}

TEST(CheckpointReaderTest, ShardedRoundTripWithIndex) {
  const std::string dir = revive::testing::temp_dir("ckpt");
  const NamedTensors tensors = sample_tensors();
  const int64_t limit = 520;  // embed alone; up+down; norm+...; big alone; ...
  write_checkpoint(dir, tensors, limit, {{"run", "2"}});

  // Greedy packing in order, as computed here independently.
  std::vector<std::vector<std::string>> groups(1);
  int64_t cur = 0, total = 0;
  for (const auto& [name, t] : tensors) {
    const int64_t b = t.numel() * static_cast<int64_t>(t.element_size());
    total += b;
    if (!groups.back().empty() && cur + b > limit) {
      groups.emplace_back();
      cur = 0;
    }
    groups.back().push_back(name);
    cur += b;
  }
  const int n = static_cast<int>(groups.size());
  ASSERT_GT(n, 2);

  std::ifstream in(fs::path(dir) / "model.safetensors.index.json");
  const nlohmann::json index = nlohmann::json::parse(in);
  EXPECT_EQ(index["metadata"]["total_size"].get<int64_t>(), total);
  EXPECT_EQ(index["metadata"]["run"].get<std::string>(), "2");
  char buf[64];
  for (int i = 0; i < n; ++i) {
    std::snprintf(buf, sizeof buf, "model-%05d-of-%05d.safetensors", i + 1, n);
    ASSERT_TRUE(fs::exists(fs::path(dir) / buf)) << buf;
    for (const auto& name : groups[i]) EXPECT_EQ(index["weight_map"][name].get<std::string>(), buf) << name;
    SafetensorsFile f((fs::path(dir) / buf).string());
    EXPECT_EQ(f.tensors().size(), groups[i].size());
    EXPECT_EQ(f.metadata().at("run"), "2");
  }
  EXPECT_FALSE(fs::exists(fs::path(dir) / "model.safetensors"));

  CheckpointReader r(dir);
  EXPECT_EQ(static_cast<int>(r.files().size()), n);  // each file opened once
  expect_reads_back(r, tensors);
  EXPECT_TRUE(at::equal(r.read_slice("big", 1, 3, 4, at::kFloat), tensors[4].second.narrow(1, 3, 4)));
  EXPECT_EQ(fs::path(r.file_of("big")).filename().string(), index["weight_map"]["big"].get<std::string>());

  // Rewriting unsharded removes the now-stale index.
  write_checkpoint(dir, tensors);
  EXPECT_FALSE(fs::exists(fs::path(dir) / "model.safetensors.index.json"));
  expect_reads_back(CheckpointReader(dir), tensors);
}

TEST(CheckpointReaderTest, MissingTensorNamesFolderAndTensor) {
  const std::string dir = revive::testing::temp_dir("ckpt");
  write_checkpoint(dir, sample_tensors());
  CheckpointReader r(dir);
  EXPECT_FALSE(r.contains("lm_head.weight"));
  expect_input_error([&] { r.read("lm_head.weight", at::kFloat); }, dir, "lm_head.weight");
}

void write_index_json(const std::string& dir, const std::string& text) {
  std::ofstream(fs::path(dir) / "model.safetensors.index.json") << text;
}

TEST(CheckpointReaderTest, MalformedIndex) {
  const std::string dir = revive::testing::temp_dir("ckpt");
  write_safetensors((fs::path(dir) / "part.safetensors").string(), {{"x", at::ones({2})}});
  const std::string index = (fs::path(dir) / "model.safetensors.index.json").string();

  write_index_json(dir, R"({"weight_map": {"x": "part.safetensors"}})");
  EXPECT_TRUE(at::equal(CheckpointReader(dir).read("x", at::kFloat), at::ones({2})));

  write_index_json(dir, R"({"weight_map": {"x": "part.safetensors"})");
  expect_input_error([&] { CheckpointReader r(dir); }, index, "");
  write_index_json(dir, R"({"metadata": {}})");
  expect_input_error([&] { CheckpointReader r(dir); }, index, "weight_map");
  write_index_json(dir, R"({"weight_map": {"y": "part.safetensors"}})");
  expect_input_error([&] { CheckpointReader r(dir); }, index, "weight_map.y");
  write_index_json(dir, R"({"weight_map": {"x": "../part.safetensors"}})");
  expect_input_error([&] { CheckpointReader r(dir); }, index, "weight_map.x");
  write_index_json(dir, R"({"weight_map": {"x": 3}})");
  expect_input_error([&] { CheckpointReader r(dir); }, index, "weight_map.x");
  const std::string gone = (fs::path(dir) / "gone.safetensors").string();
  write_index_json(dir, R"({"weight_map": {"x": "gone.safetensors"}})");
  expect_input_error([&] { CheckpointReader r(dir); }, gone, "");
}

TEST(CheckpointReaderTest, EmptyOrMissingFolder) {
  const std::string dir = revive::testing::temp_dir("ckpt");
  expect_input_error([&] { CheckpointReader r(dir); }, dir, "");
  const std::string none = dir + "/nope";
  expect_input_error([&] { CheckpointReader r(none); }, none, "");
}

TEST(CheckpointReaderTest, Stories260KSlicesEqualFullReads) {
  REVIVE_REQUIRE_DATA(dir, "stories260K-hf");
  CheckpointReader r(dir);
  const std::vector<std::string> names = r.names();
  ASSERT_FALSE(names.empty());
  for (const auto& name : names) {
    const TensorInfo& info = r.info(name);
    EXPECT_EQ(info.dtype, at::kFloat) << name;
    const at::Tensor full = r.read(name, at::kFloat);
    ASSERT_EQ(full.sizes().vec(), info.shape) << name;
    EXPECT_TRUE(at::isfinite(full).all().item<bool>()) << name;
    for (int64_t dim = 0; dim < full.dim(); ++dim) {
      const int64_t n = full.size(dim);
      for (int parts : {2, 3}) {
        for (int p = 0; p < parts; ++p) {
          const int64_t b = n * p / parts, e = n * (p + 1) / parts;
          EXPECT_TRUE(at::equal(r.read_slice(name, dim, b, e - b, at::kFloat), full.narrow(dim, b, e - b)))
              << name << " dim " << dim;
        }
      }
    }
  }
}

}  // namespace
}  // namespace revive::sharding
