// revive export's library: a run checkpoint written back as a model folder.
// Synthetic runs (shards written as the runner writes them) on a small random
// Llama in f32 and bf16, and on stories260K (skipped without the fixture).
#include "lib/export/model_export.h"

#include <ATen/ATen.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>

#include "lib/export/run_checkpoint.h"
#include "lib/model/model_loader.h"
#include "sharding/comm/local_communicator.h"
#include "sharding/errors.h"
#include "tests/export/export_fixtures.h"
#include "tests/support/fixtures.h"

namespace revive::exporting {
namespace {
namespace fs = std::filesystem;
using test::file_bytes;
using test::tensor_bytes;
using test::export_options;

const std::string kDown = "model.layers.1.mlp.down_proj";  // row-parallel: columns split
const std::string kUp = "model.layers.0.mlp.up_proj";      // column-parallel: rows split

// The original [out, in] weight of `module` with a random edit, in f32.
at::Tensor edited(const std::string& model, const std::string& module, uint64_t seed) {
  const sharding::CheckpointReader r(model);
  at::manual_seed(seed);
  at::Tensor w = r.read(module + ".weight", at::kFloat);
  return w + 0.01 * at::randn(w.sizes(), at::kFloat);
}

// "model.layers.1.mlp.down_proj" of "model.layers.1.mlp.down_proj.weight".
std::string module_of(const std::string& name) { return fs::path(name).stem().string(); }

struct SmallLlama : ::testing::Test {
  void make(at::ScalarType dtype, int tp) {
    root = revive::testing::temp_dir("export");
    model = root + "/model";
    test::write_small_llama(model, dtype, 6000, 7);  // several files and an index
    weights = {{kDown, edited(model, kDown, 1)}, {kUp, edited(model, kUp, 2)}};
    test::write_run_checkpoint(root + "/run", 20, tp, weights, model);
  }
  std::string root, model;
  std::map<std::string, at::Tensor> weights;
};

TEST_F(SmallLlama, F32ExportKeepsUneditedBytesAndHoldsTheEditedWeights) {
  make(at::kFloat, 2);
  const ExportSummary s = export_edited_model(export_options(root + "/run", model, root + "/out"));
  EXPECT_EQ(s.edits, 20);
  EXPECT_EQ(s.tp_size, 2);
  ASSERT_EQ(s.edited_tensors.size(), 2u);
  EXPECT_TRUE(fs::exists(root + "/out/" + kEditRecordFile));
  const sharding::CheckpointReader in(model), out(root + "/out");
  for (const std::string& name : in.names()) {
    const std::string a = in.file_of(name), b = out.file_of(name);
    EXPECT_EQ(fs::path(a).filename(), fs::path(b).filename()) << name;
    if (weights.count(module_of(name))) continue;
    EXPECT_EQ(tensor_bytes(a, name), tensor_bytes(b, name)) << name << " was re-encoded";
  }
  for (const auto& [module, w] : weights) {
    EXPECT_TRUE(at::equal(out.read(module + ".weight", at::kFloat), w)) << module;  // f32 stays exact
  }
  // Files without an edited tensor, the index and side files: byte-identical.
  for (const fs::directory_entry& e : fs::directory_iterator(model)) {
    const std::string rel = e.path().filename().string();
    if (std::find(s.rewritten_files.begin(), s.rewritten_files.end(), rel) != s.rewritten_files.end()) continue;
    EXPECT_EQ(file_bytes(e.path().string()), file_bytes(root + "/out/" + rel)) << rel;
  }
  EXPECT_EQ(s.rewritten_files.size() + s.copied_files.size(), static_cast<size_t>(std::distance(
                                                                  fs::directory_iterator(model), fs::directory_iterator())));
  EXPECT_GE(s.rewritten_files.size(), 1u);
}

TEST_F(SmallLlama, LinkHardLinksOnlyTheFilesWithoutEdits) {
  make(at::kFloat, 1);
  ExportOptions o = export_options(root + "/run", model, root + "/out");
  o.link_unedited = true;
  const ExportSummary s = export_edited_model(o);
  const auto inode = [](const std::string& p) {
    struct stat st{};
    EXPECT_EQ(::stat(p.c_str(), &st), 0) << p;
    return st.st_ino;
  };
  for (const std::string& rel : s.copied_files) EXPECT_EQ(inode(model + "/" + rel), inode(root + "/out/" + rel)) << rel;
  for (const std::string& rel : s.rewritten_files) EXPECT_NE(inode(model + "/" + rel), inode(root + "/out/" + rel)) << rel;
}

TEST_F(SmallLlama, Bf16StaysBf16WithinOneUlpRoundedToNearestEven) {
  make(at::kBFloat16, 1);
  // Ties: 1 + 2^-8 lies halfway between 1 and 1 + 2^-7 (even: 1); 1 + 3 * 2^-8
  // between 1 + 2^-7 and 1 + 2^-6 (even: 1 + 2^-6).
  at::Tensor w = weights.at(kDown);
  w.view(-1)[0] = 1.0f + std::ldexp(1.0f, -8);
  w.view(-1)[1] = 1.0f + 3 * std::ldexp(1.0f, -8);
  test::write_run_checkpoint(root + "/run", 20, 1, weights, model);
  export_edited_model(export_options(root + "/run", model, root + "/out"));
  const sharding::CheckpointReader out(root + "/out");
  for (const auto& [module, f32] : weights) {
    EXPECT_EQ(out.info(module + ".weight").dtype, at::kBFloat16);
    const at::Tensor got = out.read(module + ".weight", at::kBFloat16);
    EXPECT_TRUE(at::equal(got, f32.to(at::kBFloat16))) << module;
    // One bf16 ulp at each element's magnitude: 2^(floor(log2|x|) - 7).
    const at::Tensor ulp = at::exp2(at::floor(at::log2(f32.abs().clamp_min(1e-30f))) - 7);
    EXPECT_TRUE((got.to(at::kFloat) - f32).abs().le(ulp).all().item<bool>()) << module;
  }
  const at::Tensor got = out.read(kDown + ".weight", at::kFloat).view(-1);
  EXPECT_EQ(got[0].item<float>(), 1.0f);
  EXPECT_EQ(got[1].item<float>(), 1.0f + std::ldexp(1.0f, -6));
}

TEST_F(SmallLlama, Tp2CheckpointExportsTheSameBytesAsTp1) {
  make(at::kBFloat16, 2);
  test::write_run_checkpoint(root + "/run1", 20, 1, weights, model);
  ExportOptions o2 = export_options(root + "/run", model, root + "/out2"), o1 = export_options(root + "/run1", model, root + "/out1");
  o1.edit_record = o2.edit_record = false;  // the record names the checkpoint and its tp
  export_edited_model(o2);
  export_edited_model(o1);
  for (const fs::directory_entry& e : fs::directory_iterator(root + "/out1")) {
    const std::string rel = e.path().filename().string();
    EXPECT_EQ(file_bytes(e.path().string()), file_bytes(root + "/out2/" + rel)) << rel;
  }
}

TEST_F(SmallLlama, AtEditsPicksACheckpointAndNamesTheCountsThatExist) {
  make(at::kFloat, 1);
  std::map<std::string, at::Tensor> later = {{kDown, edited(model, kDown, 3)}};
  test::write_run_checkpoint(root + "/run", 40, 1, later, model);
  EXPECT_EQ(run_checkpoint_counts(root + "/run"), (std::vector<int64_t>{20, 40}));
  ExportOptions o = export_options(root + "/run", model, root + "/out");
  o.at_edits = 30;
  try {
    export_edited_model(o);
    FAIL() << "an absent count was accepted";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("no checkpoint at 30 edits; it has checkpoints at: 20, 40"), std::string::npos)
        << e.what();
  }
  EXPECT_FALSE(fs::exists(root + "/out"));
  o.at_edits = 20;
  EXPECT_EQ(export_edited_model(o).edits, 20);
  const sharding::CheckpointReader out(root + "/out");
  EXPECT_TRUE(at::equal(out.read(kUp + ".weight", at::kFloat), weights.at(kUp)));
  EXPECT_EQ(export_edited_model(export_options(root + "/run", model, root + "/latest")).edits, 40);  // the latest
}

TEST_F(SmallLlama, RefusesAnExistingFolderUnlessForced) {
  make(at::kFloat, 1);
  fs::create_directories(root + "/out");
  sharding::write_file_atomic(root + "/out/old.txt", "old");
  ExportOptions o = export_options(root + "/run", model, root + "/out");
  EXPECT_THROW(
      {
        try {
          export_edited_model(o);
        } catch (const InputError& e) {
          EXPECT_NE(std::string(e.what()).find("already exists"), std::string::npos) << e.what();
          throw;
        }
      },
      InputError);
  EXPECT_TRUE(fs::exists(root + "/out/old.txt"));
  o.force = true;
  export_edited_model(o);
  EXPECT_FALSE(fs::exists(root + "/out/old.txt"));
  EXPECT_TRUE(fs::exists(root + "/out/config.json"));
  for (const fs::directory_entry& e : fs::directory_iterator(root)) {
    EXPECT_EQ(e.path().filename().string().find(".out."), std::string::npos) << "left behind: " << e.path();
  }
}

// Weights in formats REVIVE does not edit, and hidden entries, are left out
// (a loader preferring them would get the unedited model) and listed.
TEST_F(SmallLlama, LeavesOutWeightsInOtherFormatsAndHiddenEntries) {
  make(at::kFloat, 1);
  for (const char* f : {"pytorch_model.bin", "original/consolidated.pth", "consolidated.safetensors", ".git/HEAD"}) {
    fs::create_directories((fs::path(model) / f).parent_path());
    sharding::write_file_atomic(model + "/" + f, "weights");
  }
  sharding::write_file_atomic(model + "/original/params.json", "{}");
  test::write_run_checkpoint(root + "/run2", 20, 1, weights, model);  // of the folder as it now is
  const ExportSummary s = export_edited_model(export_options(root + "/run2", model, root + "/out"));
  EXPECT_EQ(s.skipped_files, (std::vector<std::string>{".git/", "consolidated.safetensors", "original/consolidated.pth",
                                                       "pytorch_model.bin"}));
  for (const std::string& f : s.skipped_files) EXPECT_FALSE(fs::exists(root + "/out/" + f)) << f;
  EXPECT_TRUE(fs::exists(root + "/out/original/params.json"));
  EXPECT_TRUE(s.warnings.empty());
}

// --out must not be, hold or lie inside a source folder: with --force a parent
// of the model would be moved aside and removed.
TEST_F(SmallLlama, RefusesAnOutThatHoldsOrLiesInsideASource) {
  make(at::kFloat, 1);
  for (const std::string& out : {root, model, model + "/exported", root + "/run/exported"}) {
    ExportOptions o = export_options(root + "/run", model, out);
    o.force = true;
    EXPECT_THROW(export_edited_model(o), InputError) << out;
  }
  EXPECT_TRUE(fs::exists(model + "/config.json"));
}

// A PRUNE checkpoint from before its restraint exports with a warning, and the
// edit record says it is not finished.
TEST_F(SmallLlama, WarnsOfAPruneCheckpointBeforeItsRestraint) {
  make(at::kFloat, 1);
  const std::string state_file = root + "/run/checkpoints/edits-20/state.json";
  nlohmann::json st = nlohmann::json::parse(file_bytes(state_file));
  st["run_config"]["solve"]["prune_when"] = "end";
  sharding::write_file_atomic(state_file, st.dump());
  const ExportSummary s = export_edited_model(export_options(root + "/run", model, root + "/out"));
  ASSERT_EQ(s.warnings.size(), 1u);
  EXPECT_NE(s.warnings[0].find("unrestrained"), std::string::npos) << s.warnings[0];
  EXPECT_FALSE(nlohmann::json::parse(file_bytes(root + "/out/revive_edit.json")).at("finished").get<bool>());
  st["finished"] = true;
  sharding::write_file_atomic(state_file, st.dump());
  EXPECT_TRUE(export_edited_model(export_options(root + "/run", model, root + "/out2")).warnings.empty());
}

TEST_F(SmallLlama, RefusesAModelOtherThanTheOneTheRunEdited) {
  make(at::kFloat, 1);
  test::write_small_llama(root + "/other", at::kFloat, 6000, 8);
  try {
    export_edited_model(export_options(root + "/run", root + "/other", root + "/out"));
    FAIL() << "another model was accepted";
  } catch (const InputError& e) {
    EXPECT_EQ(e.field(), "run_config.model");
    EXPECT_NE(std::string(e.what()).find("state.json"), std::string::npos) << e.what();
  }
  EXPECT_FALSE(fs::exists(root + "/out"));
}

TEST_F(SmallLlama, AFailureMidwayLeavesNoFolder) {
  make(at::kFloat, 1);
  ExportOptions o = export_options(root + "/run", model, root + "/out");
  int files = 0;
  o.on_file = [&](const std::string&) {
    if (++files == 2) throw Error("injected failure");
  };
  EXPECT_THROW(export_edited_model(o), Error);
  EXPECT_FALSE(fs::exists(root + "/out"));
  for (const fs::directory_entry& e : fs::directory_iterator(root)) {
    EXPECT_EQ(e.path().filename().string().rfind(".out.", 0), std::string::npos) << "left behind: " << e.path();
  }
}

TEST_F(SmallLlama, AKilledExportLeavesNoFolderAndTheNextOneCleansUp) {
  // "fast": the child is forked and shares this test's folders (a "threadsafe"
  // child re-runs the test from the start and would make its own). It dies
  // before any tensor work, so LibTorch's threads do not matter.
  ::testing::GTEST_FLAG(death_test_style) = "fast";
  make(at::kFloat, 1);
  ExportOptions o = export_options(root + "/run", model, root + "/out");
  o.on_file = [](const std::string& rel) {
    if (rel == "config.json") ::_exit(9);  // as if killed after a few files
  };
  EXPECT_EXIT(export_edited_model(o), ::testing::ExitedWithCode(9), "");
  EXPECT_FALSE(fs::exists(root + "/out"));
  int partial = 0;
  for (const fs::directory_entry& e : fs::directory_iterator(root)) {
    partial += e.path().filename().string().rfind(".out.partial-", 0) == 0;
  }
  EXPECT_EQ(partial, 1);  // the killed process's hidden folder
  o.on_file = nullptr;
  export_edited_model(o);
  EXPECT_TRUE(fs::exists(root + "/out/config.json"));
  for (const fs::directory_entry& e : fs::directory_iterator(root)) {
    EXPECT_EQ(e.path().filename().string().rfind(".out.", 0), std::string::npos) << "left behind: " << e.path();
  }
}

// stories260K: an f32 HF file without REVIVE checksums keeps its header byte
// for byte, and the exported folder gives the logits of the checkpoint's
// weights put into the original model.
TEST(Stories260kExport, LogitsEqualTheCheckpointWeightsInTheOriginalModel) {
  REVIVE_REQUIRE_DATA(model, "stories260K-hf");
  const std::string root = revive::testing::temp_dir("export_stories");
  const std::map<std::string, at::Tensor> weights = {{"model.layers.1.mlp.down_proj", edited(model, "model.layers.1.mlp.down_proj", 4)},
                                                     {"model.layers.2.self_attn.o_proj", edited(model, "model.layers.2.self_attn.o_proj", 5)}};
  test::write_run_checkpoint(root + "/run", 10, 2, weights, model);
  const ExportSummary s = export_edited_model(export_options(root + "/run", model, root + "/out"));
  ASSERT_EQ(s.rewritten_files, std::vector<std::string>{"model.safetensors"});

  const std::string a = file_bytes(model + "/model.safetensors"), b = file_bytes(root + "/out/model.safetensors");
  ASSERT_EQ(a.size(), b.size());
  const uint64_t n = test::header_length(a);
  EXPECT_EQ(a.substr(0, 8 + n), b.substr(0, 8 + n)) << "header changed";
  const sharding::CheckpointReader in(model);
  for (const std::string& name : in.names()) {
    if (weights.count(module_of(name))) continue;
    EXPECT_EQ(tensor_bytes(model + "/model.safetensors", name), tensor_bytes(root + "/out/model.safetensors", name)) << name;
  }

  sharding::LocalCommunicator tp("tp");
  auto original = model::load_model(model, tp);
  {
    at::NoGradGuard no_grad;
    for (const auto& [module, w] : weights) original->linear_weight(module).local().copy_(w);
  }
  auto exported = model::load_model(root + "/out", tp);
  const at::Tensor ids = at::randint(3, 500, {2, 24}, at::kLong);
  at::NoGradGuard no_grad;
  EXPECT_TRUE(at::equal(original->forward(ids), exported->forward(ids)));
}

}  // namespace
}  // namespace revive::exporting
