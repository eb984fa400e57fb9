// revive export on GPT-2: Conv1D weights (c_attn, c_proj, c_fc) are stored
// [in, out] in HF files while the model and the run checkpoint hold [out, in],
// and attn.c_attn fuses q | k | v along `out` (stored [E, 3E]). Small random
// GPT-2 folders are written here, either as HF writes them (one
// model.safetensors, no REVIVE checksums, names without "transformer.") or as
// REVIVE's writer does (several files and an index, checksums, prefixed
// names); run checkpoints are made the way the sequential runner makes them:
// the original model loaded as each tp rank, its edited modules' local shards
// replaced, and `linear_weight(module).local()` written to
// weights.tp<r>.safetensors. Expected values are computed here with
// at::Tensor::t() / narrow(), not with the export's helpers.
#include "lib/export/model_export.h"

#include <ATen/ATen.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "lib/model/config.h"
#include "lib/model/model_loader.h"
#include "sharding/checkpoint/atomic_file.h"
#include "sharding/checkpoint/content_hash.h"
#include "sharding/checkpoint/file_tree.h"
#include "sharding/checkpoint/safetensors.h"
#include "sharding/comm/local_communicator.h"
#include "sharding/errors.h"
#include "sharding/layout/param_layout.h"
#include "tests/export/export_fixtures.h"
#include "tests/support/fixtures.h"

namespace revive::exporting {
namespace {

constexpr int64_t kGpt2xE = 16;  // n_embd: 4 heads of 4
constexpr int64_t kGpt2xI = 37;  // n_inner, odd: the MLP splits 19 / 18 at tp 2
constexpr int64_t kGpt2xVocab = 41;

const char* const kGpt2xConfig = R"({"architectures": ["GPT2LMHeadModel"], "model_type": "gpt2",
  "vocab_size": 41, "n_embd": 16, "n_layer": 2, "n_head": 4, "n_positions": 32, "n_inner": 37,
  "layer_norm_epsilon": 1e-05, "activation_function": "gelu_new", "tie_word_embeddings": true,
  "bos_token_id": 0, "eos_token_id": 0})";

const std::string kGpt2xPrefix = "transformer.";

// A GPT-2 folder: where it is, its dtype, and whether it is HF-style (one file,
// no checksums, names without "transformer.") or REVIVE-style.
struct gpt2x_Model {
  std::string dir;
  at::ScalarType dtype = at::kFloat;
  bool hf = true;
  // The stored name of canonical tensor `param` ("transformer.h.1.mlp.c_proj.weight").
  std::string stored(const std::string& param) const { return hf ? param.substr(kGpt2xPrefix.size()) : param; }
};

std::string gpt2x_raw(const at::Tensor& t) {
  const at::Tensor c = t.contiguous();
  return std::string(static_cast<const char*>(c.data_ptr()), c.nbytes());
}

const char* gpt2x_dtype_name(at::ScalarType t) {
  if (t == at::kFloat) return "F32";
  if (t == at::kBFloat16) return "BF16";
  if (t == at::kHalf) return "F16";
  throw Error("gpt2x_dtype_name: unexpected dtype");
}

// A safetensors file as HF's writer makes one: {"format": "pt"} metadata only,
// the header padded with spaces to 8 bytes, tensors back to back.
void gpt2x_write_hf_safetensors(const std::string& path, const sharding::NamedTensors& tensors) {
  nlohmann::ordered_json h;
  h["__metadata__"] = {{"format", "pt"}};
  std::string data;
  for (const auto& [name, t] : tensors) {
    const std::string bytes = gpt2x_raw(t);
    h[name] = {{"dtype", gpt2x_dtype_name(t.scalar_type())},
               {"shape", t.sizes().vec()},
               {"data_offsets", nlohmann::ordered_json::array({data.size(), data.size() + bytes.size()})}};
    data += bytes;
  }
  std::string header = h.dump();
  header.append((8 - header.size() % 8) % 8, ' ');
  std::string file(8, '\0');
  for (int i = 0; i < 8; ++i) file[static_cast<size_t>(i)] = static_cast<char>((header.size() >> (8 * i)) & 0xff);
  sharding::write_file_atomic(path, file + header + data);
}

// A random GPT-2 (tied embeddings, no lm_head.weight) with its Conv1D weights
// stored [in, out], in `dtype`, plus side files (one in a sub-folder).
gpt2x_Model gpt2x_write_model(const std::string& dir, at::ScalarType dtype, bool hf, uint64_t seed) {
  namespace fs = std::filesystem;
  fs::create_directories(dir + "/extra");
  sharding::write_file_atomic(dir + "/config.json", kGpt2xConfig);
  sharding::write_file_atomic(dir + "/tokenizer_config.json", "{\"model_max_length\": 32}\n");
  sharding::write_file_atomic(dir + "/generation_config.json", "{\"do_sample\": false}\n");
  sharding::write_file_atomic(dir + "/extra/notes.txt", "a side file in a sub-folder\n");
  const sharding::ModelDims dims = model::model_dims(model::parse_config(kGpt2xConfig, "config.json"));
  sharding::ParamNameOptions names;
  names.tie_word_embeddings = true;
  gpt2x_Model m{dir, dtype, hf};
  at::manual_seed(seed);
  sharding::NamedTensors tensors;
  for (const std::string& name : sharding::parameter_names(dims, names)) {
    const sharding::ParamLayout l = sharding::param_layout(name, dims);
    at::Tensor t = at::randn(l.stored_shape, at::kFloat) * 0.3;
    const bool norm_weight = name.find(".ln_") != std::string::npos && name.compare(name.size() - 7, 7, ".weight") == 0;
    if (norm_weight) t = 1.0 + t;
    tensors.emplace_back(m.stored(name), t.to(dtype));
  }
  if (hf) {
    gpt2x_write_hf_safetensors(dir + "/model.safetensors", tensors);
  } else {
    sharding::write_checkpoint(dir, tensors, dtype == at::kFloat ? 6000 : 3000);  // several files and an index
  }
  return m;
}

// "transformer.h.0.attn.c_attn.q" -> ("transformer.h.0.attn.c_attn.weight", 0);
// a single-part module -> (module + ".weight", -1).
std::pair<std::string, int64_t> gpt2x_param(const std::string& module) {
  const char* parts[] = {"q", "k", "v"};
  for (int64_t p = 0; p < 3; ++p) {
    const std::string tail = std::string(".c_attn.") + parts[p];
    if (module.size() > tail.size() && module.compare(module.size() - tail.size(), tail.size(), tail) == 0) {
      return {module.substr(0, module.size() - 2) + ".weight", p};
    }
  }
  return {module + ".weight", -1};
}

// The original f32 [out, in] weight of model module `module`, from its stored
// [in, out] Conv1D tensor (a c_attn part: its rows of the fused [3E, E]).
at::Tensor gpt2x_original(const gpt2x_Model& m, const std::string& module) {
  const auto [param, part] = gpt2x_param(module);
  const sharding::CheckpointReader r(m.dir);
  at::Tensor w = r.read(m.stored(param), at::kFloat).t();
  if (part >= 0) w = w.narrow(0, part * kGpt2xE, kGpt2xE);
  return w.contiguous();
}

// The original weight with a random edit, in f32 (not representable in bf16).
at::Tensor gpt2x_edited(const gpt2x_Model& m, const std::string& module, uint64_t seed) {
  const at::Tensor w = gpt2x_original(m, module);
  at::manual_seed(seed);
  return w + 0.01 * at::randn(w.sizes(), at::kFloat);
}

// A tp group of `size` in which this process is rank `rank`: enough to load a
// rank's shards (loading does no collective); any collective fails.
class gpt2x_FakeRank final : public sharding::Communicator {
 public:
  gpt2x_FakeRank(int rank, int size) : rank_(rank), size_(size) {}
  int rank() const override { return rank_; }
  int size() const override { return size_; }
  std::string name() const override { return "gpt2x-fake:tp"; }
  c10::DeviceType device_type() const override { return c10::DeviceType::CPU; }
  void all_reduce(at::Tensor&, const sharding::AllReduceOptions&) override { fail("all_reduce"); }
  void broadcast(at::Tensor&, const sharding::BroadcastOptions&) override { fail("broadcast"); }
  at::Tensor all_gather(const at::Tensor&, const sharding::AllGatherOptions&) override { fail("all_gather"); }
  at::Tensor reduce_scatter(const at::Tensor&, const sharding::ReduceScatterOptions&) override {
    fail("reduce_scatter");
  }
  void barrier(const sharding::BarrierOptions&) override { fail("barrier"); }
  std::unique_ptr<sharding::Communicator> split(int, int, const std::string&) override { fail("split"); }

 private:
  [[noreturn]] static void fail(const char* op) { throw Error(std::string("gpt2x_FakeRank: no ") + op + " here"); }
  int rank_, size_;
};

// A run checkpoint at `edits` edits as the sequential runner writes it: for
// each rank r of `tp`, the original model loaded as rank r, each edited
// module's local shard set to its slice of the full edited [out, in] weight in
// `weights`, and linear_weight(module).local() written to weights.tp<r>.
void gpt2x_write_run(const std::string& run, int64_t edits, int tp, const std::map<std::string, at::Tensor>& weights,
                     const gpt2x_Model& m) {
  namespace fs = std::filesystem;
  const fs::path dir = fs::path(run) / "checkpoints" / ("edits-" + std::to_string(edits));
  fs::create_directories(dir);
  std::vector<std::string> layers;
  for (const auto& [module, full] : weights) layers.push_back(module);
  at::NoGradGuard no_grad;
  for (int r = 0; r < tp; ++r) {
    std::unique_ptr<sharding::Communicator> comm;
    if (tp == 1) {
      comm = std::make_unique<sharding::LocalCommunicator>("tp");
    } else {
      comm = std::make_unique<gpt2x_FakeRank>(r, tp);
    }
    auto net = model::load_model(m.dir, *comm);
    sharding::NamedTensors shards;
    for (const std::string& module : layers) {
      sharding::ShardedTensor& w = net->linear_weight(module);
      const sharding::ShardSpec& s = w.spec();
      const at::Tensor& full = weights.at(module);
      w.local().copy_(s.dim < 0 ? full : full.narrow(s.dim, s.offset, s.length));
      shards.emplace_back(module, w.local());
    }
    const std::string rank = std::to_string(r);
    sharding::write_safetensors((dir / ("weights.tp" + rank + ".safetensors")).string(), shards,
                                {{"tp_rank", rank}, {"tp_size", std::to_string(tp)}});
    sharding::NamedTensors editor_state;
    editor_state.emplace_back("cov", at::ones({2, 2}, at::kFloat));
    sharding::write_safetensors((dir / ("editor.tp" + rank + ".safetensors")).string(), editor_state,
                                {{"tp_rank", rank}});
  }
  test::write_run_state(run, edits, tp, layers, m.dir, "gpt2-test",
                        {{"requests_fingerprint", "0123456789abcdef"}, {"seconds", 1.5}, {"finished", true}});
}

// Every regular file under `dir`, relative, sorted.
std::vector<std::string> gpt2x_files(const std::string& dir) {
  namespace fs = std::filesystem;
  std::vector<std::string> files;
  for (const fs::directory_entry& e : fs::recursive_directory_iterator(dir)) {
    if (e.is_regular_file()) files.push_back(fs::relative(e.path(), dir).string());
  }
  std::sort(files.begin(), files.end());
  return files;
}

// The bytes of safetensors file `path` with the data of each tensor in
// `replaced` (stored name -> new contents in the stored dtype and shape)
// overwritten, the header and everything else as they are.
std::string gpt2x_patched(const std::string& path, const std::map<std::string, at::Tensor>& replaced) {
  std::string bytes = test::file_bytes(path);
  const size_t data = 8 + static_cast<size_t>(test::header_length(bytes));
  const sharding::SafetensorsFile f(path);
  for (const auto& [name, t] : replaced) {
    const sharding::TensorInfo& info = f.info(name);
    const std::string raw = gpt2x_raw(t);
    EXPECT_EQ(t.scalar_type(), info.dtype) << name;
    EXPECT_EQ(t.sizes().vec(), info.shape) << name;
    EXPECT_EQ(static_cast<int64_t>(raw.size()), info.data_end - info.data_begin) << name;
    bytes.replace(data + static_cast<size_t>(info.data_begin), raw.size(), raw);
  }
  return bytes;
}

// The header of safetensors file `path` without the REVIVE checksums of `names`.
nlohmann::json gpt2x_header_without(const std::string& path, const std::set<std::string>& names) {
  const std::string bytes = test::file_bytes(path);
  nlohmann::json h = nlohmann::json::parse(bytes.substr(8, static_cast<size_t>(test::header_length(bytes))));
  if (h.contains("__metadata__") && h["__metadata__"].contains(sharding::kChecksumsMetadataKey)) {
    nlohmann::json sums = nlohmann::json::parse(h["__metadata__"][sharding::kChecksumsMetadataKey].get<std::string>());
    for (const std::string& n : names) sums.erase(n);
    h["__metadata__"][sharding::kChecksumsMetadataKey] = sums;
  }
  return h;
}

// The stored bits of a tensor, as integers (bit-exact comparison, -0 != +0).
at::Tensor gpt2x_bits(const at::Tensor& t) {
  const at::Tensor c = t.contiguous();
  if (c.scalar_type() == at::kFloat) return c.view(at::kInt);
  if (c.scalar_type() == at::kBFloat16 || c.scalar_type() == at::kHalf) return c.view(at::kShort);
  throw Error("gpt2x_bits: unexpected dtype");
}

bool gpt2x_same_bits(const at::Tensor& a, const at::Tensor& b) {
  return a.scalar_type() == b.scalar_type() && a.sizes() == b.sizes() && at::equal(gpt2x_bits(a), gpt2x_bits(b));
}

// The export against the original: every file other than the rewritten ones
// byte-identical, the same file list (plus revive_edit.json when `record`),
// every tensor not in `edited` (stored names) with its stored bytes, in the
// same file; a REVIVE-style rewritten file's header differs at most in the
// edited tensors' checksums, an HF-style one not at all.
void gpt2x_expect_unedited_kept(const gpt2x_Model& m, const std::string& out, const std::set<std::string>& edited,
                                const ExportSummary& s, bool record) {
  std::vector<std::string> want = gpt2x_files(m.dir);
  if (record) want.push_back(kEditRecordFile);
  std::sort(want.begin(), want.end());
  EXPECT_EQ(gpt2x_files(out), want);
  const std::set<std::string> rewritten(s.rewritten_files.begin(), s.rewritten_files.end());
  for (const std::string& rel : gpt2x_files(m.dir)) {
    if (rewritten.count(rel)) continue;
    EXPECT_TRUE(test::file_bytes(m.dir + "/" + rel) == test::file_bytes(out + "/" + rel)) << rel << " differs";
  }
  const sharding::CheckpointReader in(m.dir), got(out);
  EXPECT_EQ(in.names(), got.names());
  std::set<std::string> files_with_edits;
  for (const std::string& name : in.names()) {
    const std::string a = in.file_of(name), b = got.file_of(name);
    EXPECT_EQ(std::filesystem::path(a).filename(), std::filesystem::path(b).filename()) << name;
    EXPECT_EQ(in.info(name).dtype, got.info(name).dtype) << name;
    EXPECT_EQ(in.info(name).shape, got.info(name).shape) << name;
    EXPECT_EQ(in.info(name).data_begin, got.info(name).data_begin) << name;
    if (edited.count(name)) {
      files_with_edits.insert(std::filesystem::path(a).filename().string());
      continue;
    }
    EXPECT_TRUE(test::tensor_bytes(a, name) == test::tensor_bytes(b, name)) << name << " was re-encoded";
  }
  EXPECT_EQ(rewritten, files_with_edits);
  for (const std::string& rel : rewritten) {
    const std::string a = test::file_bytes(m.dir + "/" + rel), b = test::file_bytes(out + "/" + rel);
    if (m.hf) {
      EXPECT_EQ(a.substr(0, 8 + test::header_length(a)), b.substr(0, 8 + test::header_length(b)))
          << rel << ": an HF header must be kept byte for byte";
    } else {
      EXPECT_EQ(gpt2x_header_without(m.dir + "/" + rel, edited), gpt2x_header_without(out + "/" + rel, edited)) << rel;
    }
  }
}

std::vector<std::string> gpt2x_stored_names(const gpt2x_Model& m, const std::vector<std::string>& params) {
  std::vector<std::string> out;
  for (const std::string& p : params) out.push_back(m.stored(p));
  std::sort(out.begin(), out.end());
  return out;
}

// `net`'s logits on fixed ids.
at::Tensor gpt2x_logits(model::Transformer& net) {
  at::manual_seed(99);
  const at::Tensor ids = at::randint(0, kGpt2xVocab, {2, 12}, at::kLong);
  at::NoGradGuard no_grad;
  return net.forward(ids);
}

// 1. An edited mlp.c_proj ([out, in] = [16, 37] in the model, stored [37, 16])
// and a square attn.c_proj (where a missing transpose would keep the shape)
// in an HF f32 file: written back transposed, exactly, and the file is the
// original with only those tensors' data bytes replaced.
TEST(Gpt2Export, F32ConvWeightsAreWrittenBackTransposedIntoTheHfFile) {
  const std::string root = revive::testing::temp_dir("gpt2x_f32_hf");
  const gpt2x_Model m = gpt2x_write_model(root + "/model", at::kFloat, /*hf=*/true, 11);
  const std::string mlp = "transformer.h.1.mlp.c_proj", attn = "transformer.h.0.attn.c_proj";
  const std::map<std::string, at::Tensor> weights = {{mlp, gpt2x_edited(m, mlp, 1)}, {attn, gpt2x_edited(m, attn, 2)}};
  ASSERT_EQ(weights.at(mlp).sizes().vec(), (std::vector<int64_t>{kGpt2xE, kGpt2xI}));
  gpt2x_write_run(root + "/run", 8, 1, weights, m);

  const ExportSummary s = export_edited_model(test::export_options(root + "/run", m.dir, root + "/out"));
  EXPECT_EQ(s.edits, 8);
  EXPECT_EQ(s.tp_size, 1);
  EXPECT_EQ(s.edited_tensors, gpt2x_stored_names(m, {mlp + ".weight", attn + ".weight"}));
  EXPECT_EQ(s.rewritten_files, std::vector<std::string>{"model.safetensors"});

  const sharding::CheckpointReader out(root + "/out");
  for (const auto& [module, w] : weights) {
    const std::string name = m.stored(module + ".weight");
    EXPECT_EQ(out.info(name).dtype, at::kFloat) << name;
    EXPECT_EQ(out.info(name).shape, w.t().sizes().vec()) << name;
    EXPECT_TRUE(at::equal(out.read(name, at::kFloat), w.t())) << name << ": not the checkpoint's weight transposed";
    EXPECT_FALSE(at::equal(out.read(name, at::kFloat), gpt2x_original(m, module).t())) << name << ": not edited";
  }
  const std::string expected = gpt2x_patched(m.dir + "/model.safetensors",
                                             {{m.stored(mlp + ".weight"), weights.at(mlp).t().contiguous()},
                                              {m.stored(attn + ".weight"), weights.at(attn).t().contiguous()}});
  const std::string got = test::file_bytes(root + "/out/model.safetensors");
  ASSERT_EQ(got.size(), expected.size());
  EXPECT_TRUE(got == expected) << "model.safetensors is not the original with the edited tensors' bytes replaced";
  gpt2x_expect_unedited_kept(m, root + "/out", {m.stored(mlp + ".weight"), m.stored(attn + ".weight")}, s, true);

  const nlohmann::json record = nlohmann::json::parse(test::file_bytes(root + "/out/" + kEditRecordFile));
  EXPECT_EQ(record.at("layers"), nlohmann::json(std::vector<std::string>{attn, mlp}));
  EXPECT_EQ(record.at("source_fingerprint"), sharding::fingerprint_checkpoint(m.dir));
}

// 2. A REVIVE-style f32 folder (several files, checksums, prefixed names): the
// exported folder loads with REVIVE's loader to the checkpoint's weights and
// the logits of the original model with those weights copied in.
TEST(Gpt2Export, F32ExportLoadsToTheCheckpointWeightsAndTheirLogits) {
  const std::string root = revive::testing::temp_dir("gpt2x_f32_load");
  const gpt2x_Model m = gpt2x_write_model(root + "/model", at::kFloat, /*hf=*/false, 12);
  ASSERT_GT(sharding::CheckpointReader(m.dir).files().size(), 1u) << "the folder should span several files";
  const std::string mlp = "transformer.h.0.mlp.c_proj", attn = "transformer.h.1.attn.c_proj",
                    fc = "transformer.h.1.mlp.c_fc";
  const std::map<std::string, at::Tensor> weights = {
      {mlp, gpt2x_edited(m, mlp, 3)}, {attn, gpt2x_edited(m, attn, 4)}, {fc, gpt2x_edited(m, fc, 5)}};
  gpt2x_write_run(root + "/run", 16, 1, weights, m);

  const ExportSummary s = export_edited_model(test::export_options(root + "/run", m.dir, root + "/out"));
  EXPECT_EQ(s.edited_tensors, gpt2x_stored_names(m, {mlp + ".weight", attn + ".weight", fc + ".weight"}));
  gpt2x_expect_unedited_kept(m, root + "/out", {mlp + ".weight", attn + ".weight", fc + ".weight"}, s, true);
  {
    const sharding::CheckpointReader out(root + "/out");  // a read verifies the updated checksum
    for (const auto& [module, w] : weights) {
      EXPECT_TRUE(at::equal(out.read(module + ".weight", at::kFloat), w.t())) << module;
    }
  }

  sharding::LocalCommunicator tp("tp");
  auto exported = model::load_model(root + "/out", tp);
  auto original = model::load_model(m.dir, tp);
  const at::Tensor before = gpt2x_logits(*original);
  {
    at::NoGradGuard no_grad;
    for (const auto& [module, w] : weights) {
      EXPECT_TRUE(at::equal(exported->linear_weight(module).full(), w)) << module << " as the loader gives it";
      original->linear_weight(module).local().copy_(w);
    }
  }
  const at::Tensor after = gpt2x_logits(*original);
  EXPECT_FALSE(at::equal(before, after)) << "the edit should change the logits";
  EXPECT_TRUE(at::equal(gpt2x_logits(*exported), after));
}

// 1 (bf16). An HF bf16 file: the edited mlp.c_proj is cast with round to
// nearest even and transposed back; the rest of the file is untouched.
TEST(Gpt2Export, Bf16MlpCProjIsRoundedToNearestEvenAndTransposedBack) {
  const std::string root = revive::testing::temp_dir("gpt2x_bf16_hf");
  const gpt2x_Model m = gpt2x_write_model(root + "/model", at::kBFloat16, /*hf=*/true, 13);
  const std::string mlp = "transformer.h.0.mlp.c_proj";
  at::Tensor w = gpt2x_edited(m, mlp, 6);  // [out 16, in 37]
  // Ties: 1 + 2^-8 lies halfway between 1 and 1 + 2^-7 (even: 1); 1 + 3 * 2^-8
  // between 1 + 2^-7 and 1 + 2^-6 (even: 1 + 2^-6). [0][1] is stored at [1][0].
  w[0][1] = 1.0f + std::ldexp(1.0f, -8);
  w[1][0] = 1.0f + 3 * std::ldexp(1.0f, -8);
  gpt2x_write_run(root + "/run", 4, 1, {{mlp, w}}, m);

  const ExportSummary s = export_edited_model(test::export_options(root + "/run", m.dir, root + "/out"));
  const std::string name = m.stored(mlp + ".weight");
  const sharding::CheckpointReader out(root + "/out");
  EXPECT_EQ(out.info(name).dtype, at::kBFloat16);
  EXPECT_EQ(out.info(name).shape, (std::vector<int64_t>{kGpt2xI, kGpt2xE}));
  const at::Tensor got = out.read(name, at::kBFloat16);
  EXPECT_TRUE(gpt2x_same_bits(got, w.t().contiguous().to(at::kBFloat16)));
  EXPECT_EQ(got[1][0].item<float>(), 1.0f);
  EXPECT_EQ(got[0][1].item<float>(), 1.0f + std::ldexp(1.0f, -6));
  const at::Tensor ulp = at::exp2(at::floor(at::log2(w.t().abs().clamp_min(1e-30f))) - 7);
  EXPECT_TRUE((got.to(at::kFloat) - w.t()).abs().le(ulp).all().item<bool>());

  const std::string expected =
      gpt2x_patched(m.dir + "/model.safetensors", {{name, w.t().contiguous().to(at::kBFloat16)}});
  EXPECT_TRUE(test::file_bytes(root + "/out/model.safetensors") == expected)
      << "model.safetensors is not the original with the edited tensor's bytes replaced";
  gpt2x_expect_unedited_kept(m, root + "/out", {name}, s, true);
}

// 3. Edited q and v of block 0 and k of block 1 land in their column slices
// of the stored fused c_attn [E, 3E]; the other slices and the biases keep
// their bits; the loader gives the edited parts back.
void gpt2x_check_c_attn_parts(at::ScalarType dtype, bool hf, const std::string& tag) {
  const std::string root = revive::testing::temp_dir(tag);
  const gpt2x_Model m = gpt2x_write_model(root + "/model", dtype, hf, 14);
  const std::string q0 = "transformer.h.0.attn.c_attn.q", v0 = "transformer.h.0.attn.c_attn.v",
                    k1 = "transformer.h.1.attn.c_attn.k";
  const std::map<std::string, at::Tensor> weights = {
      {q0, gpt2x_edited(m, q0, 7)}, {v0, gpt2x_edited(m, v0, 8)}, {k1, gpt2x_edited(m, k1, 9)}};
  gpt2x_write_run(root + "/run", 12, 1, weights, m);

  ExportSummary s;
  try {
    s = export_edited_model(test::export_options(root + "/run", m.dir, root + "/out"));
  } catch (const std::exception& e) {
    FAIL() << "exporting edited c_attn parts failed: " << e.what();
  }
  const std::string fused0 = m.stored("transformer.h.0.attn.c_attn.weight"),
                    fused1 = m.stored("transformer.h.1.attn.c_attn.weight");
  EXPECT_EQ(s.edited_tensors, (std::vector<std::string>{fused0, fused1}));
  gpt2x_expect_unedited_kept(m, root + "/out", {fused0, fused1}, s, true);

  const sharding::CheckpointReader in(m.dir), out(root + "/out");
  // Expected stored fused tensors: the original's bits with the edited parts'
  // columns replaced by their transposes cast to the stored dtype.
  std::map<std::string, at::Tensor> expected;
  for (const std::string& fused : {fused0, fused1}) expected[fused] = in.read(fused, dtype).clone();
  expected[fused0].narrow(1, 0 * kGpt2xE, kGpt2xE).copy_(weights.at(q0).t().to(dtype));
  expected[fused0].narrow(1, 2 * kGpt2xE, kGpt2xE).copy_(weights.at(v0).t().to(dtype));
  expected[fused1].narrow(1, 1 * kGpt2xE, kGpt2xE).copy_(weights.at(k1).t().to(dtype));
  const std::map<std::string, std::vector<int64_t>> unedited_parts = {{fused0, {1}}, {fused1, {0, 2}}};
  for (const auto& [fused, want] : expected) {
    ASSERT_EQ(out.info(fused).dtype, dtype) << fused;
    ASSERT_EQ(out.info(fused).shape, (std::vector<int64_t>{kGpt2xE, 3 * kGpt2xE})) << fused;
    const at::Tensor got = out.read(fused, dtype), orig = in.read(fused, dtype);
    EXPECT_TRUE(gpt2x_same_bits(got, want)) << fused;
    for (int64_t p : unedited_parts.at(fused)) {
      EXPECT_TRUE(gpt2x_same_bits(got.narrow(1, p * kGpt2xE, kGpt2xE), orig.narrow(1, p * kGpt2xE, kGpt2xE)))
          << fused << ": unedited part " << "qkv"[p] << " changed";
    }
    // The bias of c_attn is not edited.
    const std::string bias = fused.substr(0, fused.size() - 7) + ".bias";
    EXPECT_TRUE(test::tensor_bytes(in.file_of(bias), bias) == test::tensor_bytes(out.file_of(bias), bias)) << bias;
  }
  if (hf) {
    EXPECT_TRUE(test::file_bytes(root + "/out/model.safetensors") == gpt2x_patched(m.dir + "/model.safetensors", expected))
        << "model.safetensors is not the original with the fused tensors' bytes replaced";
  }

  // The loader splits the fused tensor back into the edited parts.
  sharding::LocalCommunicator tp("tp");
  auto exported = model::load_model(root + "/out", tp);
  auto original = model::load_model(m.dir, tp);
  {
    at::NoGradGuard no_grad;
    for (const auto& [module, w] : weights) {
      const at::Tensor stored = w.to(dtype).to(at::kFloat);
      EXPECT_TRUE(at::equal(exported->linear_weight(module).full(), stored)) << module;
      original->linear_weight(module).local().copy_(stored);
    }
    for (const char* module : {"transformer.h.0.attn.c_attn.k", "transformer.h.1.attn.c_attn.q",
                               "transformer.h.1.attn.c_attn.v"}) {
      EXPECT_TRUE(at::equal(exported->linear_weight(module).full(), gpt2x_original(m, module))) << module;
    }
  }
  EXPECT_TRUE(at::equal(gpt2x_logits(*exported), gpt2x_logits(*original)));
}

TEST(Gpt2Export, F32CAttnPartsLandInTheirSlicesOfTheFusedTensor) {
  gpt2x_check_c_attn_parts(at::kFloat, /*hf=*/false, "gpt2x_cattn_f32");
}

TEST(Gpt2Export, Bf16CAttnPartsLandInTheirSlicesOfTheFusedTensor) {
  gpt2x_check_c_attn_parts(at::kBFloat16, /*hf=*/true, "gpt2x_cattn_bf16");
}

// 4. A tp-2 checkpoint (shards as the model holds them at tp 2: the MLP split
// unevenly, attention by whole heads, c_attn parts each on their own) exports
// the same bytes as the tp-1 checkpoint of the same weights.
void gpt2x_check_tp2_equals_tp1(at::ScalarType dtype, bool hf, const std::string& tag) {
  const std::string root = revive::testing::temp_dir(tag);
  const gpt2x_Model m = gpt2x_write_model(root + "/model", dtype, hf, 15);
  const std::string fc = "transformer.h.0.mlp.c_fc", mlp = "transformer.h.0.mlp.c_proj",
                    attn = "transformer.h.1.attn.c_proj", q1 = "transformer.h.1.attn.c_attn.q",
                    v1 = "transformer.h.1.attn.c_attn.v";
  const std::map<std::string, at::Tensor> weights = {{fc, gpt2x_edited(m, fc, 21)},
                                                     {mlp, gpt2x_edited(m, mlp, 22)},
                                                     {attn, gpt2x_edited(m, attn, 23)},
                                                     {q1, gpt2x_edited(m, q1, 24)},
                                                     {v1, gpt2x_edited(m, v1, 25)}};
  gpt2x_write_run(root + "/run2", 30, 2, weights, m);
  gpt2x_write_run(root + "/run1", 30, 1, weights, m);

  // The shards, as split for tp 2: rows of c_fc and of each c_attn part (by
  // heads: 2 of 4 each), columns of the c_proj weights (37 = 19 + 18).
  const std::map<std::string, std::pair<int64_t, std::vector<std::vector<int64_t>>>> split = {
      {fc, {0, {{19, kGpt2xE}, {18, kGpt2xE}}}},
      {mlp, {1, {{kGpt2xE, 19}, {kGpt2xE, 18}}}},
      {attn, {1, {{kGpt2xE, 8}, {kGpt2xE, 8}}}},
      {q1, {0, {{8, kGpt2xE}, {8, kGpt2xE}}}},
      {v1, {0, {{8, kGpt2xE}, {8, kGpt2xE}}}}};
  for (const auto& [module, w] : weights) {
    std::vector<at::Tensor> shards;
    for (int r = 0; r < 2; ++r) {
      const sharding::SafetensorsFile f(root + "/run2/checkpoints/edits-30/weights.tp" + std::to_string(r) +
                                        ".safetensors");
      const at::Tensor shard = f.read(module, at::kFloat);
      EXPECT_EQ(shard.sizes().vec(), split.at(module).second[static_cast<size_t>(r)]) << module << " rank " << r;
      shards.push_back(shard);
    }
    EXPECT_TRUE(at::equal(at::cat(shards, split.at(module).first), w)) << module;
  }

  ExportOptions o2 = test::export_options(root + "/run2", m.dir, root + "/out2"),
                o1 = test::export_options(root + "/run1", m.dir, root + "/out1");
  o1.edit_record = o2.edit_record = false;  // the record names the checkpoint and its tp
  const ExportSummary s2 = export_edited_model(o2);
  const ExportSummary s1 = export_edited_model(o1);
  EXPECT_EQ(s2.tp_size, 2);
  EXPECT_EQ(s2.edited_tensors, s1.edited_tensors);
  EXPECT_EQ(s2.rewritten_files, s1.rewritten_files);
  ASSERT_EQ(gpt2x_files(root + "/out1"), gpt2x_files(root + "/out2"));
  for (const std::string& rel : gpt2x_files(root + "/out1")) {
    EXPECT_TRUE(test::file_bytes(root + "/out1/" + rel) == test::file_bytes(root + "/out2/" + rel))
        << rel << " differs between the tp-1 and tp-2 exports";
  }

  // And both hold the edited weights (tp 1 checked on its own).
  const sharding::CheckpointReader out(root + "/out1");
  for (const std::string& module : {fc, mlp, attn}) {
    const std::string name = m.stored(module + ".weight");
    EXPECT_TRUE(gpt2x_same_bits(out.read(name, dtype), weights.at(module).t().contiguous().to(dtype))) << module;
  }
  const at::Tensor fused = out.read(m.stored("transformer.h.1.attn.c_attn.weight"), dtype);
  EXPECT_TRUE(gpt2x_same_bits(fused.narrow(1, 0, kGpt2xE), weights.at(q1).t().to(dtype)));
  EXPECT_TRUE(gpt2x_same_bits(fused.narrow(1, 2 * kGpt2xE, kGpt2xE), weights.at(v1).t().to(dtype)));
  // Loaded as each rank of tp 2, the export gives that rank the checkpoint's shard (cast).
  for (int r = 0; r < 2; ++r) {
    gpt2x_FakeRank comm(r, 2);
    auto net = model::load_model(root + "/out2", comm);
    const sharding::SafetensorsFile f(root + "/run2/checkpoints/edits-30/weights.tp" + std::to_string(r) +
                                      ".safetensors");
    for (const auto& [module, w] : weights) {
      EXPECT_TRUE(at::equal(net->linear_weight(module).local(), f.read(module, at::kFloat).to(dtype).to(at::kFloat)))
          << module << " rank " << r;
    }
  }
}

TEST(Gpt2Export, F32Tp2CheckpointExportsTheSameBytesAsTp1) {
  gpt2x_check_tp2_equals_tp1(at::kFloat, /*hf=*/false, "gpt2x_tp_f32");
}

TEST(Gpt2Export, Bf16Tp2CheckpointExportsTheSameBytesAsTp1) {
  gpt2x_check_tp2_equals_tp1(at::kBFloat16, /*hf=*/true, "gpt2x_tp_bf16");
}

}  // namespace
}  // namespace revive::exporting
