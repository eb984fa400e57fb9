#include "lib/data/toy_world_export.h"

#include <nlohmann/json.hpp>

#include <filesystem>

#include "lib/data/atomic_file.h"
#include "lib/data/counterfact_rome.h"
#include "lib/data/wordlevel_tokenizer.h"
#include "sharding/errors.h"

namespace revive::data {

namespace {

std::string lines(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& s : items) {
    out += s;
    out += '\n';
  }
  return out;
}

std::string world_json(const ToyWorld& w) {
  nlohmann::ordered_json j = nlohmann::ordered_json::object();
  const ToyWorldOptions& o = w.options();
  j["options"] = {{"seed", o.seed},
                  {"num_subjects", o.num_subjects},
                  {"num_relations", o.num_relations},
                  {"objects_per_relation", o.objects_per_relation},
                  {"phrasings_per_relation", o.phrasings_per_relation},
                  {"neighbors_per_request", o.neighbors_per_request},
                  {"general_sentences", o.general_sentences},
                  {"held_out_sentences", o.held_out_sentences}};
  j["subjects"] = w.subjects();
  nlohmann::ordered_json rels = nlohmann::ordered_json::array();
  for (const ToyRelation& r : w.relations()) {
    rels.push_back({{"id", r.id}, {"phrasings", r.phrasings}, {"objects", r.objects}});
  }
  j["relations"] = std::move(rels);
  nlohmann::ordered_json facts = nlohmann::ordered_json::array();
  for (const ToyFact& f : w.facts()) facts.push_back({f.subject, f.relation, f.object});
  j["facts"] = std::move(facts);
  return j.dump(1) + "\n";
}

}  // namespace

ToyWorldFiles write_toy_world(const ToyWorld& world, const std::string& dir) {
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) throw InputError(dir, "", "cannot create folder: " + ec.message());
  const fs::path d(dir);
  ToyWorldFiles files{(d / "requests.json").string(),  (d / "train.txt").string(),
                      (d / "vocab.txt").string(),      (d / "tokenizer.json").string(),
                      (d / "tokenizer_config.json").string(), (d / "world.json").string(), ""};
  const std::vector<std::string> vocab = world.vocabulary();
  write_counterfact_rome(files.requests, world.requests());
  write_file_atomic(files.train_text, lines(world.training_lines()));
  write_file_atomic(files.vocab, lines(vocab));
  write_file_atomic(files.tokenizer, wordlevel_tokenizer_json(vocab));
  write_file_atomic(files.tokenizer_config, wordlevel_tokenizer_config_json());
  write_file_atomic(files.world, world_json(world));
  if (!world.held_out_lines().empty()) {
    files.held_out = (d / "held_out.txt").string();
    write_file_atomic(files.held_out, lines(world.held_out_lines()));
  }
  return files;
}

}  // namespace revive::data
