#include "lib/edit/run/layer_statistics.h"

#include <ATen/ATen.h>
#include <torch/torch.h>

#include <filesystem>

#include "lib/edit/run/edit_prompts.h"
#include "lib/model/batching.h"
#include "lib/model/hooks.h"
#include "lib/model/tokenizer.h"
#include "lib/model/transformer.h"
#include "sharding/checkpoint/atomic_file.h"
#include "sharding/checkpoint/content_hash.h"
#include "sharding/checkpoint/safetensors.h"
#include "sharding/comm/communicator.h"
#include "sharding/comm/staged_collectives.h"
#include "sharding/comm/watchdog.h"
#include "sharding/errors.h"

namespace revive::edit {
namespace fs = std::filesystem;
namespace {

std::string stats_key(const StatisticsOptions& o, const std::string& module) {
  sharding::ContentHash h;
  h.text("revive-layer-stats-v1").text(o.model_fingerprint).text(module);
  sharding::hash_files(h, {o.corpus});
  h.number(static_cast<uint64_t>(o.corpus_options.split)).text(o.corpus_options.separator);
  h.text(o.corpus_options.json_field).number(o.corpus_options.trim).number(o.corpus_options.skip_empty);
  h.number(o.corpus_options.max_documents).number(static_cast<uint64_t>(o.max_length));
  return h.hex();
}

std::string stats_file_name(const std::string& module, const std::string& key) {
  return "stats-" + module + "-" + key + ".safetensors";
}

std::map<std::string, std::string> stats_metadata(const StatisticsOptions& o, const std::string& module,
                                                  int64_t tokens, int64_t documents) {
  return {{"module", module},
          {"corpus", o.corpus},
          {"model_fingerprint", o.model_fingerprint},
          {"max_documents", std::to_string(o.corpus_options.max_documents)},
          {"max_length", std::to_string(o.max_length)},
          {"tokens", std::to_string(tokens)},
          {"documents", std::to_string(documents)}};
}

int64_t input_features(model::Transformer& model, const std::string& module) {
  return model.linear_weight(module).spec().global_shape.at(1);  // W = [out, in]
}

int64_t stats_meta_int(const sharding::SafetensorsFile& f, const std::string& field) {
  const auto it = f.metadata().find(field);
  if (it == f.metadata().end()) throw InputError(f.path(), "__metadata__." + field, "missing");
  try {
    return std::stoll(it->second);
  } catch (const std::exception&) {
    throw InputError(f.path(), "__metadata__." + field, "not an integer: '" + it->second + "'");
  }
}

// A cached or resumed statistic that cannot be this module's (another shape,
// NaN/Inf) is refused naming its file, before any editor sees it.
void check_cached_moment(const at::Tensor& t, int64_t d_in, const std::string& file, const std::string& tensor) {
  if (t.dim() != 2 || t.size(0) != d_in || t.size(1) != d_in) {
    throw InputError(file, tensor, "shape " + c10::str(t.sizes()) + ", but the module has " + std::to_string(d_in) +
                                       " input features");
  }
  if (!at::isfinite(t).all().item<bool>()) throw InputError(file, tensor, "holds NaN/Inf entries");
}

}  // namespace

std::map<std::string, LayerStatistics> compute_layer_statistics(model::Transformer& model,
                                                                const model::Tokenizer& tokenizer,
                                                                const std::vector<std::string>& modules,
                                                                const StatisticsOptions& requested,
                                                                sharding::Communicator& dp) {
  const sharding::watchdog::Phase phase("statistics");
  REVIVE_CHECK(!modules.empty(), "layer statistics: no modules");
  REVIVE_CHECK(requested.max_length >= 2 && requested.batch_size >= 1, "layer statistics: bad max_length/batch_size");
  // Documents are cut at the model's trained positions too: keys from beyond
  // them are not the model's. The cap is part of the cache key, so longer
  // requested lengths share one cache file.
  StatisticsOptions options = requested;
  options.max_length = model.config().within_positions(options.max_length);
  const bool cached = !options.cache_dir.empty();
  const bool writer = dp.rank() == 0 && model.tp().rank() == 0;
  std::map<std::string, LayerStatistics> out;
  std::vector<std::string> keys;

  // 1. Whole cache hit: every module's file exists.
  if (cached) {
    bool all = true;
    for (const std::string& m : modules) {
      keys.push_back(stats_key(options, m));
      const std::string file = (fs::path(options.cache_dir) / stats_file_name(m, keys.back())).string();
      if (!fs::exists(file)) all = false;
    }
    if (all) {
      for (size_t i = 0; i < modules.size(); ++i) {
        const std::string file = (fs::path(options.cache_dir) / stats_file_name(modules[i], keys[i])).string();
        sharding::SafetensorsFile f(file);
        LayerStatistics s;
        s.second_moment = f.read("second_moment", at::kFloat);
        check_cached_moment(s.second_moment, input_features(model, modules[i]), file, "second_moment");
        s.tokens = stats_meta_int(f, "tokens");
        s.documents = stats_meta_int(f, "documents");
        s.from_cache = true;
        s.cache_file = file;
        out[modules[i]] = std::move(s);
      }
      return out;
    }
    if (writer) fs::create_directories(options.cache_dir);
  }

  // 2. Compute, resuming from this rank's partial sums when present.
  std::vector<model::ModuleRef> refs;
  for (const std::string& m : modules) refs.push_back(model.parse_module(m));
  std::string partial_file;
  if (cached) {
    sharding::ContentHash h;
    for (const std::string& k : keys) h.text(k);
    partial_file = (fs::path(options.cache_dir) / ("stats-partial-" + h.hex() + "-dp" + std::to_string(dp.rank()) +
                                                   "of" + std::to_string(dp.size()) + "-tp" +
                                                   std::to_string(model.tp().rank()) + ".safetensors"))
                       .string();
  }
  // Each rank owns its partial file; a killed earlier run may have left a
  // half-written copy of it.
  if (cached) sharding::remove_stale_temporaries(partial_file);
  std::vector<at::Tensor> sums(modules.size());
  int64_t tokens = 0, docs_done = 0;
  if (cached && fs::exists(partial_file)) {
    sharding::SafetensorsFile f(partial_file);
    for (size_t i = 0; i < modules.size(); ++i) {
      sums[i] = f.read("sum." + modules[i], at::kDouble);
      check_cached_moment(sums[i], input_features(model, modules[i]), partial_file, "sum." + modules[i]);
    }
    tokens = stats_meta_int(f, "tokens");
    docs_done = stats_meta_int(f, "documents");
  }
  auto save_partial = [&]() {
    if (!cached) return;
    sharding::NamedTensors t;
    for (size_t i = 0; i < modules.size(); ++i) {
      if (sums[i].defined()) t.emplace_back("sum." + modules[i], sums[i]);
    }
    if (t.size() != modules.size()) return;
    sharding::write_safetensors(partial_file, t,
                                {{"tokens", std::to_string(tokens)}, {"documents", std::to_string(docs_done)}});
  };

  data::CorpusShard shard;
  shard.rank = dp.rank();
  shard.size = dp.size();
  data::DocumentStream stream(options.corpus, options.corpus_options, shard);
  data::Document doc;
  for (int64_t skip = 0; skip < docs_done && stream.next(doc); ++skip) {
  }
  at::NoGradGuard no_grad;
  int64_t since_save = 0;
  bool more = true;
  while (more) {
    std::vector<std::vector<int64_t>> seqs;
    while (static_cast<int64_t>(seqs.size()) < options.batch_size && (more = stream.next(doc))) {
      std::vector<int64_t> ids = tokenizer.encode(doc.text, true);
      if (static_cast<int64_t>(ids.size()) > options.max_length) ids.resize(static_cast<size_t>(options.max_length));
      if (!ids.empty()) seqs.push_back(std::move(ids));
    }
    // Every tp rank reads the same documents, so all run the same forward passes.
    if (seqs.empty()) break;
    const model::PaddedBatch batch = model::pad_right(seqs, 0);
    std::vector<model::TokenPos> at;
    for (size_t r = 0; r < seqs.size(); ++r) {
      for (size_t p = 0; p < seqs[r].size(); ++p) at.push_back({static_cast<int64_t>(r), static_cast<int64_t>(p)});
    }
    model::Hooks hooks;
    std::vector<size_t> idx;
    for (const model::ModuleRef& ref : refs) idx.push_back(hooks.capture_input(ref.layer, ref.module, at));
    model::ForwardOptions fwd;
    fwd.attention_mask = batch.mask;
    fwd.hooks = &hooks;
    model.hidden_states(batch.ids, fwd);
    for (size_t i = 0; i < refs.size(); ++i) {
      const at::Tensor k = hooks.captured(idx[i]).full().to(at::kDouble);
      const at::Tensor kk = k.t().mm(k);
      sums[i] = sums[i].defined() ? sums[i].add_(kk.to(sums[i].device())) : kk;
    }
    tokens += static_cast<int64_t>(at.size());
    docs_done += static_cast<int64_t>(seqs.size());
    since_save += static_cast<int64_t>(seqs.size());
    if (since_save >= options.checkpoint_every) {
      save_partial();
      since_save = 0;
    }
    if (options.progress && dp.rank() == 0) options.progress(docs_done, tokens);
  }
  save_partial();

  // 3. Combine over dp; a rank with no documents contributes zeros.
  at::Tensor counts = at::tensor({static_cast<double>(tokens), static_cast<double>(docs_done)}, at::kDouble);
  sharding::all_reduce_staged(dp, counts);
  const int64_t total_tokens = static_cast<int64_t>(counts[0].item<double>());
  const int64_t total_docs = static_cast<int64_t>(counts[1].item<double>());
  if (total_tokens == 0) throw InputError(options.corpus, "", "no tokens to compute layer statistics from");
  for (size_t i = 0; i < modules.size(); ++i) {
    // A rank that saw no documents learns d_in from the others.
    at::Tensor dims = at::tensor({static_cast<double>(sums[i].defined() ? sums[i].size(0) : 0)}, at::kDouble);
    sharding::AllReduceOptions mx;
    mx.op = sharding::ReduceOp::kMax;
    sharding::all_reduce_staged(dp, dims, mx);
    const int64_t d_in = static_cast<int64_t>(dims.item<double>());
    if (!sums[i].defined()) sums[i] = at::zeros({d_in, d_in}, at::kDouble);
    at::Tensor s = sums[i].contiguous();
    sharding::all_reduce_staged(dp, s);
    s = s.cpu();  // the statistics are kept on the host
    LayerStatistics st;
    st.second_moment = (s / static_cast<double>(total_tokens)).to(at::kFloat);
    // Never cached: a NaN/Inf statistic would poison every later run.
    if (!at::isfinite(st.second_moment).all().item<bool>()) {
      throw Error("layer statistics of " + modules[i] + " hold NaN/Inf (the model's activations overflow in float32?)");
    }
    st.tokens = total_tokens;
    st.documents = total_docs;
    if (cached) {
      st.cache_file = (fs::path(options.cache_dir) / stats_file_name(modules[i], keys[i])).string();
      if (writer) {
        sharding::write_safetensors(st.cache_file, {{"second_moment", st.second_moment}},
                                    stats_metadata(options, modules[i], total_tokens, total_docs));
      }
    }
    out[modules[i]] = std::move(st);
  }
  dp.barrier();
  if (cached && fs::exists(partial_file)) fs::remove(partial_file);
  return out;
}

}  // namespace revive::edit
