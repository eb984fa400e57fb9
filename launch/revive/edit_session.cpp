#include "launch/revive/edit_session.h"

#include <nlohmann/json.hpp>

#include <chrono>
#include <filesystem>
#include <iostream>
#include <sstream>

#include "launch/revive/common_options.h"
#include "lib/model/model_loader.h"
#include "sharding/checkpoint/content_hash.h"
#include "sharding/comm/watchdog.h"
#include "sharding/errors.h"

namespace revive::cli {
namespace fs = std::filesystem;
namespace {

std::vector<int64_t> session_parse_layers(const std::string& text) {
  std::vector<int64_t> out;
  std::stringstream ss(text);
  std::string item;
  while (std::getline(ss, item, ',')) {
    const size_t dash = item.find('-');
    try {
      if (dash != std::string::npos && dash > 0) {
        const int64_t a = std::stoll(item.substr(0, dash)), b = std::stoll(item.substr(dash + 1));
        for (int64_t l = a; l <= b; ++l) out.push_back(l);
      } else {
        out.push_back(std::stoll(item));
      }
    } catch (const std::exception&) {
      throw InputError("--layers", "", "'" + text + "' is not a list like 1,2 or 4-8");
    }
  }
  if (out.empty()) throw InputError("--layers", "", "no layers given");
  return out;
}

}  // namespace

po::options_description edit_model_options() {
  po::options_description d("Model and edited layers");
  d.add_options()
      ("model", po::value<std::string>()->required(), "HF model folder (config.json, *.safetensors, tokenizer.json)")
      ("preset", po::value<std::string>()->default_value("stories260k"),
       ("published defaults: " + edit::edit_preset_names()).c_str())
      ("layers", po::value<std::string>(), "edited layers, e.g. 4-8 or 1,2 (default: the preset's)")
      ("module", po::value<std::string>(),
       "edited module relative to a block, e.g. mlp.down_proj (default: the preset's)")
      ("cache-dir", po::value<std::string>()->default_value(".revive-cache"),
       "where layer statistics and protected bases are cached");
  return d;
}

po::options_description statistics_options() {
  po::options_description d("Layer statistics E[k k^T]");
  d.add_options()
      ("stats-corpus", po::value<std::string>(), "text corpus for the statistics (required unless cached)")
      ("stats-split", po::value<std::string>()->default_value("separator"),
       "documents: separator (<|endoftext|>), lines, blank-lines, whole, json")
      ("stats-samples", po::value<int64_t>(), "documents to use (default: the preset's mom2_n_samples)")
      ("stats-max-length", po::value<int64_t>()->default_value(256), "tokens per document")
      ("stats-batch", po::value<int64_t>()->default_value(16), "documents per forward pass");
  return d;
}

po::options_description basis_options() {
  po::options_description d("Protected basis (REVIVE)");
  d.add_options()
      ("tau", po::value<double>()->default_value(0.5),
       "energy threshold: smallest k with top-k energy >= tau; a higher tau keeps the model healthier and lets "
       "edits take less (README: REVIVE's tau on stories260K)")
      ("rank", po::value<int64_t>()->default_value(0), "fixed k instead of --tau (0: use --tau)")
      ("svd-engine", po::value<std::string>()->default_value("auto"), "auto, randomized or gram-eigen");
  return d;
}

EditSession::EditSession(const po::variables_map& vm, sharding::CommRuntime& rt)
    : grid(rt.world(), grid_spec(vm)),
      model_folder(vm["model"].as<std::string>()),
      cache_dir(vm["cache-dir"].as<std::string>()),
      tokenizer(model::Tokenizer::from_file(model_folder)) {
  fingerprint = sharding::fingerprint_checkpoint(model_folder);
  model = model::load_model(model_folder, grid.tp(), load_options(vm, rt, grid.tp().size()));
  preset = edit::find_edit_preset(vm["preset"].as<std::string>());
  if (vm.count("layers")) {
    const auto l = session_parse_layers(vm["layers"].as<std::string>());
    preset.layers.assign(l.begin(), l.end());
  }
  for (int l : preset.layers) layers.push_back(l);
  for (int64_t l : layers) {
    if (l < 0 || l >= model->num_layers()) {
      throw InputError(vm.count("layers") ? "--layers" : "--preset", "",
                       "layer " + std::to_string(l) + " is not one of the model's " +
                           std::to_string(model->num_layers()) + " blocks (0.." + std::to_string(model->num_layers() - 1) +
                           ")" + (vm.count("layers") ? "" : "; choose the edited layers with --layers"));
    }
  }
  if (vm.count("module")) {
    module = vm["module"].as<std::string>();
  } else {
    // The preset names the module with "{}" for the layer: resolve through the model.
    std::string name = preset.rewrite_module;
    const size_t slot = name.find("{}");
    if (slot != std::string::npos) name.replace(slot, 2, std::to_string(layers.front()));
    module = model->parse_module(name).module;
  }
  for (int64_t l : layers) names.push_back(model->module_name({l, module}));
  for (const std::string& n : names) model->linear_weight(n);  // clear error for an unknown module
}

void EditSession::say(const std::string& line) const {
  if (leader()) std::cerr << line << std::endl;
}

std::map<std::string, edit::LayerStatistics> EditSession::statistics(const po::variables_map& vm) {
  edit::StatisticsOptions o;
  o.corpus = vm.count("stats-corpus") ? vm["stats-corpus"].as<std::string>() : "";
  if (o.corpus.empty()) {
    throw InputError("--stats-corpus", "", "the layer statistics need a text corpus (none given)");
  }
  o.corpus_options.split = data::parse_document_split(vm["stats-split"].as<std::string>(), "--stats-split");
  o.corpus_options.max_documents =
      vm.count("stats-samples") ? count_option(vm, "stats-samples") : static_cast<size_t>(preset.mom2_n_samples);
  o.max_length = vm["stats-max-length"].as<int64_t>();
  o.batch_size = vm["stats-batch"].as<int64_t>();
  o.cache_dir = cache_dir;
  o.model_fingerprint = fingerprint;
  const auto t0 = std::chrono::steady_clock::now();
  auto last = t0;
  o.progress = [&](int64_t docs, int64_t tokens) {
    const auto now = std::chrono::steady_clock::now();
    if (std::chrono::duration<double>(now - last).count() < 5.0) return;
    last = now;
    say("  statistics: " + std::to_string(docs) + " documents, " + std::to_string(tokens) + " tokens on this rank");
  };
  auto stats = edit::compute_layer_statistics(*model, tokenizer, names, o, grid.dp());
  for (const auto& [name, s] : stats) {
    say("statistics of " + name + ": " + std::to_string(s.tokens) + " tokens from " + std::to_string(s.documents) +
        " documents" + (s.from_cache ? " (cached: " + s.cache_file + ")" : ""));
  }
  return stats;
}

spectral::SvdOptions basis_svd_options(const po::variables_map& vm) {
  spectral::SvdOptions o;
  const int64_t k = vm["rank"].as<int64_t>();
  if (k < 0) throw InputError("--rank", "", "must be >= 0 (0: use --tau)");
  if (k > 0) {
    o.rsvd.rank = k;
  } else {
    o.energy = vm["tau"].as<double>();
    if (!(o.energy > 0 && o.energy <= 1)) throw InputError("--tau", "", "must be in (0, 1]");
  }
  const std::string engine = vm["svd-engine"].as<std::string>();
  if (engine == "randomized") o.engine = spectral::SvdEngine::kRandomized;
  else if (engine == "gram-eigen") o.engine = spectral::SvdEngine::kGramEigen;
  else if (engine != "auto") throw InputError("--svd-engine", "", "'" + engine + "' is not auto, randomized or gram-eigen");
  return o;
}

std::map<std::string, std::unique_ptr<spectral::ProtectedBasis>> EditSession::bases(const spectral::SvdOptions& o) {
  std::map<std::string, std::unique_ptr<spectral::ProtectedBasis>> out;
  if (leader()) fs::create_directories(cache_dir);
  grid.world().barrier();
  for (const std::string& name : names) {
    // The shortest text that reads back as the same double: tau 0.50910252 and
    // 0.50910254 must not share a file.
    const std::string tag = o.energy > 0 ? "tau" + nlohmann::json(o.energy).dump() : "k" + std::to_string(o.rsvd.rank);
    const std::string file =
        (fs::path(cache_dir) / ("basis-" + name + "-" + tag + "-" + fingerprint + ".safetensors")).string();
    const sharding::ShardedTensor& w = model->linear_weight(name);
    std::unique_ptr<spectral::ProtectedBasis> b;
    if (fs::exists(file)) {
      b = std::make_unique<spectral::ProtectedBasis>(spectral::ProtectedBasis::load(file, w, name));
      // The name says the settings; the file must too (a copied or hand-renamed file).
      if (b->tau() != std::max(o.energy, 0.0)) {  // tau 0: a fixed-k basis
        throw InputError(file, "__metadata__.tau",
                         "made with tau " + nlohmann::json(b->tau()).dump() + "; this run asks for " + tag);
      }
      if (o.energy == 0 && b->k() != o.rsvd.rank) {
        throw InputError(file, "__metadata__.k",
                         "holds k = " + std::to_string(b->k()) + "; this run asks for " + tag);
      }
      say("basis of " + name + ": k = " + std::to_string(b->k()) + " (cached: " + file + ")");
    } else {
      const sharding::watchdog::Phase phase("basis");
      const auto t0 = std::chrono::steady_clock::now();
      b = std::make_unique<spectral::ProtectedBasis>(spectral::ProtectedBasis::compute(w, name, o));
      // Only the tp group of dp rank 0 writes (save is collective over the tp group).
      if (grid.dp_rank() == 0) b->save(file);
      const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      say("basis of " + name + ": k = " + std::to_string(b->k()) + " of " +
          std::to_string(std::min(w.spec().global_shape[0], w.spec().global_shape[1])) + " in " +
          std::to_string(s) + " s -> " + file);
    }
    out[name] = std::move(b);
  }
  grid.world().barrier();
  return out;
}

}  // namespace revive::cli
