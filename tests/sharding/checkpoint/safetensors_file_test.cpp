// SafetensorsFile and write_safetensors: round trips for every stored dtype,
// slice reads against full reads, and one test per malformed header field,
// each checking that the InputError names the file and the field.
#include "sharding/checkpoint/safetensors.h"

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <filesystem>

#include "sharding/errors.h"
#include "tests/sharding/checkpoint/raw_safetensors.h"
#include "tests/support/fixtures.h"
#include "tests/support/input_error.h"

namespace revive::sharding {
namespace {

namespace fs = std::filesystem;
using revive::testing::raw_safetensors;
using revive::testing::write_bytes;

using ::revive::testing::expect_input_error;

class SafetensorsFileTest : public ::testing::Test {
 protected:
  std::string dir_ = revive::testing::temp_dir("safetensors");
  std::string path(const std::string& name) const { return (fs::path(dir_) / name).string(); }
  // A file with one F32 tensor "a" of shape [2] (8 bytes) and `header` replacing
  // the default header when given.
  std::string write_raw(const std::string& name, const std::string& header, const std::string& data,
                        int64_t length = -1) {
    const std::string p = path(name);
    write_bytes(p, raw_safetensors(header, data, length));
    return p;
  }
};

TEST_F(SafetensorsFileTest, RoundTripEveryDtypeExactly) {
  at::manual_seed(1);
  const NamedTensors tensors = {
      {"f32", at::randn({3, 5})},
      {"bf16", at::randn({4, 2}).to(at::kBFloat16)},
      {"f16", at::randn({7}).to(at::kHalf)},
      {"f64", at::randn({2, 2, 3}, at::kDouble)},
      {"i64", at::arange(-5, 7, at::kLong).reshape({3, 4})},
      {"i32", at::arange(0, 6, at::kInt)},
      {"u8", at::arange(0, 200, at::kByte)},
      {"bool", at::rand({5}) > 0.5},
      {"scalar", at::scalar_tensor(3.25)},
      {"empty", at::empty({0, 4})},
  };
  const std::string p = path("all.safetensors");
  write_safetensors(p, tensors, {{"note", "hello"}});
  SafetensorsFile f(p);
  ASSERT_EQ(f.tensors().size(), tensors.size());
  EXPECT_EQ(f.metadata().at("note"), "hello");
  EXPECT_EQ(f.metadata().at("format"), "pt");
  for (const auto& [name, t] : tensors) {
    ASSERT_TRUE(f.contains(name));
    EXPECT_EQ(f.info(name).dtype, t.scalar_type()) << name;
    EXPECT_EQ(f.info(name).shape, t.sizes().vec()) << name;
    const at::Tensor back = f.read(name, t.scalar_type());
    EXPECT_EQ(back.sizes(), t.sizes()) << name;
    EXPECT_TRUE(at::equal(back, t)) << name;
  }
  // Conversion on read: each stored type to f32 equals LibTorch's own cast.
  for (const char* name : {"bf16", "f16", "f64", "i64"}) {
    const at::Tensor stored = f.read(name, f.info(name).dtype);
    EXPECT_TRUE(at::equal(f.read(name, at::kFloat), stored.to(at::kFloat))) << name;
  }
  EXPECT_TRUE(at::equal(f.read("f32", at::kBFloat16), tensors[0].second.to(at::kBFloat16)));
}

TEST_F(SafetensorsFileTest, HeaderIsPaddedSoDataIsAligned) {
  const std::string p = path("pad.safetensors");
  write_safetensors(p, {{"x", at::ones({3})}});
  const std::string bytes = revive::testing::read_bytes(p);
  uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = (n << 8) | static_cast<uint8_t>(bytes[i]);
  EXPECT_EQ((8 + n) % 8, 0u);
  EXPECT_EQ(bytes.size(), 8 + n + 12);
}

TEST_F(SafetensorsFileTest, SliceReadsEqualNarrowOfFullRead) {
  at::manual_seed(2);
  const at::Tensor t = at::randn({5, 6, 7});
  const std::string p = path("slice.safetensors");
  write_safetensors(p, {{"t", t}, {"h", t.to(at::kBFloat16)}});
  SafetensorsFile f(p);
  for (int64_t dim = 0; dim < 3; ++dim) {
    const int64_t n = t.size(dim);
    for (int64_t start = 0; start <= n; ++start) {
      for (int64_t len = 0; start + len <= n; ++len) {
        EXPECT_TRUE(at::equal(f.read_slice("t", dim, start, len, at::kFloat), t.narrow(dim, start, len)))
            << dim << " " << start << " " << len;
      }
    }
    const at::Tensor h = f.read_slice("h", dim, 1, 2, at::kFloat);
    EXPECT_TRUE(at::equal(h, t.to(at::kBFloat16).to(at::kFloat).narrow(dim, 1, 2)));
  }
}

TEST_F(SafetensorsFileTest, SliceOutsideTheTensorIsAnError) {
  const std::string p = path("s.safetensors");
  write_safetensors(p, {{"t", at::zeros({4, 3})}});
  SafetensorsFile f(p);
  expect_input_error([&] { f.read_slice("t", 0, 3, 2, at::kFloat); }, p, "t");
  expect_input_error([&] { f.read_slice("t", 2, 0, 1, at::kFloat); }, p, "t");
  expect_input_error([&] { f.read_slice("t", -1, 0, 1, at::kFloat); }, p, "t");
  expect_input_error([&] { f.read_slice("t", 1, -1, 1, at::kFloat); }, p, "t");
}

TEST_F(SafetensorsFileTest, WriterReplacesAtomicallyAndLeavesNoTemporaryFiles) {
  const std::string p = path("w.safetensors");
  write_safetensors(p, {{"x", at::ones({2})}});
  write_safetensors(p, {{"y", at::zeros({3})}});
  SafetensorsFile f(p);
  EXPECT_FALSE(f.contains("x"));
  EXPECT_TRUE(f.contains("y"));
  int files = 0;
  for (const auto& e : fs::directory_iterator(dir_)) {
    ++files;
    EXPECT_EQ(e.path().filename().string().find(".tmp"), std::string::npos) << e.path();
  }
  EXPECT_EQ(files, 1);
}

TEST_F(SafetensorsFileTest, WriterRejectsDuplicateNamesAndUnwritableFolders) {
  EXPECT_THROW(write_safetensors(path("d.safetensors"), {{"x", at::ones({1})}, {"x", at::ones({1})}}), Error);
  EXPECT_THROW(write_safetensors(path("d.safetensors"), {{"__metadata__", at::ones({1})}}), Error);
  EXPECT_THROW(write_safetensors(path("no/such/dir/d.safetensors"), {{"x", at::ones({1})}}), Error);
  EXPECT_FALSE(fs::exists(path("d.safetensors")));
}

// ---- malformed files: one test per field --------------------------------------

constexpr const char* kGoodHeader =
    R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})";
const std::string kGoodData(8, '\0');

TEST_F(SafetensorsFileTest, WellFormedRawFileIsAccepted) {
  const std::string p = write_raw("ok.safetensors", kGoodHeader, kGoodData);
  SafetensorsFile f(p);
  EXPECT_TRUE(at::equal(f.read("a", at::kFloat), at::zeros({2})));
}

TEST_F(SafetensorsFileTest, BoolBytesOtherThanZeroOrOneReadAsTrue) {
  const std::string p = write_raw(
      "bool.safetensors", R"({"a":{"dtype":"BOOL","shape":[4],"data_offsets":[0,4]}})", std::string("\x00\x01\x07\xff", 4));
  SafetensorsFile f(p);
  const at::Tensor a = f.read("a", at::kBool);
  EXPECT_EQ(a.scalar_type(), at::kBool);
  EXPECT_TRUE(at::equal(a.to(at::kLong), at::tensor({0, 1, 1, 1}, at::kLong)));
  EXPECT_TRUE(at::equal(f.read_slice("a", 0, 2, 2, at::kFloat), at::ones({2})));
}

TEST_F(SafetensorsFileTest, TruncatedBeforeTheLengthPrefix) {
  const std::string p = path("trunc.safetensors");
  write_bytes(p, std::string(5, '\0'));
  expect_input_error([&] { SafetensorsFile f(p); }, p, "header length");
  write_bytes(p, "");
  expect_input_error([&] { SafetensorsFile f(p); }, p, "header length");
}

TEST_F(SafetensorsFileTest, TruncatedDataSection) {
  // A whole file cut after 4 of the 8 data bytes: the range runs past the data.
  const std::string p = write_raw("cut.safetensors", kGoodHeader, kGoodData.substr(0, 4));
  expect_input_error([&] { SafetensorsFile f(p); }, p, "a.data_offsets");
}

TEST_F(SafetensorsFileTest, HeaderLengthPastTheEnd) {
  const std::string p = write_raw("len.safetensors", kGoodHeader, kGoodData, 1000);
  expect_input_error([&] { SafetensorsFile f(p); }, p, "header length");
  const std::string q = write_raw("huge.safetensors", kGoodHeader, kGoodData, INT64_MAX);
  expect_input_error([&] { SafetensorsFile f(q); }, q, "header length");
}

TEST_F(SafetensorsFileTest, BrokenJson) {
  const std::string p = write_raw("json.safetensors", R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]})",
                                  kGoodData);
  expect_input_error([&] { SafetensorsFile f(p); }, p, "header");
  const std::string q = write_raw("arr.safetensors", "[1,2]", kGoodData);
  expect_input_error([&] { SafetensorsFile f(q); }, q, "header");
  const std::string r = write_raw("utf.safetensors", "{\"\xff\":1}", kGoodData);
  expect_input_error([&] { SafetensorsFile f(r); }, r, "header");
}

TEST_F(SafetensorsFileTest, UnknownDtype) {
  const std::string p =
      write_raw("dtype.safetensors", R"({"a":{"dtype":"F4","shape":[2],"data_offsets":[0,8]}})", kGoodData);
  expect_input_error([&] { SafetensorsFile f(p); }, p, "a.dtype");
  const std::string q =
      write_raw("dtype2.safetensors", R"({"a":{"dtype":7,"shape":[2],"data_offsets":[0,8]}})", kGoodData);
  expect_input_error([&] { SafetensorsFile f(q); }, q, "a.dtype");
}

TEST_F(SafetensorsFileTest, ByteRangeDoesNotMatchShapeTimesDtype) {
  const std::string p =
      write_raw("range.safetensors", R"({"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})", kGoodData);
  expect_input_error([&] { SafetensorsFile f(p); }, p, "a.data_offsets");
  const std::string q =
      write_raw("bf.safetensors", R"({"a":{"dtype":"BF16","shape":[2],"data_offsets":[0,8]}})", kGoodData);
  expect_input_error([&] { SafetensorsFile f(q); }, q, "a.data_offsets");
  // A shape whose byte count overflows int64 must not wrap to a "matching" size.
  const std::string r = write_raw(
      "ovf.safetensors",
      R"({"a":{"dtype":"F32","shape":[4611686018427387904,4],"data_offsets":[0,8]}})", kGoodData);
  expect_input_error([&] { SafetensorsFile f(r); }, r, "a.shape");
}

TEST_F(SafetensorsFileTest, RangeOutsideTheDataSection) {
  const std::string p =
      write_raw("out.safetensors", R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})", kGoodData);
  expect_input_error([&] { SafetensorsFile f(p); }, p, "a.data_offsets");
  const std::string q =
      write_raw("rev.safetensors", R"({"a":{"dtype":"F32","shape":[0],"data_offsets":[8,0]}})", kGoodData);
  expect_input_error([&] { SafetensorsFile f(q); }, q, "a.data_offsets");
  const std::string r =
      write_raw("neg.safetensors", R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[-8,0]}})", kGoodData);
  expect_input_error([&] { SafetensorsFile f(r); }, r, "a.data_offsets");
  const std::string s =
      write_raw("one.safetensors", R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0]}})", kGoodData);
  expect_input_error([&] { SafetensorsFile f(s); }, s, "a.data_offsets");
}

TEST_F(SafetensorsFileTest, OverlappingRanges) {
  const std::string p = write_raw(
      "overlap.safetensors",
      R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})",
      kGoodData);
  expect_input_error([&] { SafetensorsFile f(p); }, p, "b.data_offsets");
}

TEST_F(SafetensorsFileTest, DuplicateTensorName) {
  const std::string p = write_raw(
      "dup.safetensors",
      R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})",
      kGoodData);
  expect_input_error([&] { SafetensorsFile f(p); }, p, "a");
}

TEST_F(SafetensorsFileTest, BadShapeAndEntry) {
  const std::string p =
      write_raw("shape.safetensors", R"({"a":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}})", kGoodData);
  expect_input_error([&] { SafetensorsFile f(p); }, p, "a.shape");
  const std::string q =
      write_raw("shape2.safetensors", R"({"a":{"dtype":"F32","shape":"2","data_offsets":[0,8]}})", kGoodData);
  expect_input_error([&] { SafetensorsFile f(q); }, q, "a.shape");
  const std::string r = write_raw("entry.safetensors", R"({"a":[1,2]})", kGoodData);
  expect_input_error([&] { SafetensorsFile f(r); }, r, "a");
}

TEST_F(SafetensorsFileTest, MetadataMustMapStringsToStrings) {
  const std::string p = write_raw(
      "meta.safetensors", R"({"__metadata__":{"k":1},"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})",
      kGoodData);
  expect_input_error([&] { SafetensorsFile f(p); }, p, "__metadata__.k");
  const std::string q = write_raw(
      "meta2.safetensors", R"({"__metadata__":"x","a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})",
      kGoodData);
  expect_input_error([&] { SafetensorsFile f(q); }, q, "__metadata__");
}

TEST_F(SafetensorsFileTest, MissingTensorAndMissingFile) {
  const std::string p = write_raw("ok.safetensors", kGoodHeader, kGoodData);
  SafetensorsFile f(p);
  expect_input_error([&] { f.info("nope"); }, p, "nope");
  expect_input_error([&] { f.read("nope", at::kFloat); }, p, "nope");
  const std::string missing = path("missing.safetensors");
  expect_input_error([&] { SafetensorsFile g(missing); }, missing, "");
}

}  // namespace
}  // namespace revive::sharding
