#include "lib/train/toy_model_builder.h"

#include <nlohmann/json.hpp>

#include <cstdio>
#include <filesystem>
#include <ostream>

#include "lib/data/atomic_file.h"
#include "lib/model/tokenizer.h"
#include "sharding/comm/local_communicator.h"
#include "sharding/checkpoint/file_tree.h"
#include "sharding/errors.h"

namespace revive::train {

namespace fs = std::filesystem;

namespace {

const char* const kToyModelFiles[] = {"config.json", "model.safetensors", "tokenizer.json",
                                      "tokenizer_config.json", "training.json"};

// FNV-1a, 64 bit: stable across platforms and runs (std::hash is not).
uint64_t toy_builder_fnv(const std::string& text) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (unsigned char c : text) {
    h ^= c;
    h *= 0x100000001b3ull;
  }
  return h;
}

std::string toy_builder_hex(uint64_t v) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(v));
  return buf;
}

nlohmann::ordered_json toy_builder_world_json(const data::ToyWorldOptions& o) {
  return {{"seed", o.seed},
          {"num_subjects", o.num_subjects},
          {"num_relations", o.num_relations},
          {"objects_per_relation", o.objects_per_relation},
          {"phrasings_per_relation", o.phrasings_per_relation},
          {"neighbors_per_request", o.neighbors_per_request}};
}

nlohmann::ordered_json toy_builder_model_json(const ToyModelOptions& o) {
  return {{"hidden_size", o.hidden_size},     {"num_layers", o.num_layers},
          {"num_heads", o.num_heads},         {"intermediate_size", o.intermediate_size},
          {"max_positions", o.max_positions}, {"rope_theta", o.rope_theta},
          {"rms_norm_eps", o.rms_norm_eps}};
}

// Everything that changes the trained weights (not log_every / eval_batch_size).
nlohmann::ordered_json toy_builder_train_json(const ToyTrainOptions& o) {
  return {{"seed", o.seed},
          {"max_steps", o.max_steps},
          {"batch_size", o.batch_size},
          {"learning_rate", o.learning_rate},
          {"min_lr_ratio", o.min_lr_ratio},
          {"warmup_steps", o.warmup_steps},
          {"weight_decay", o.weight_decay},
          {"beta1", o.beta1},
          {"beta2", o.beta2},
          {"grad_clip", o.grad_clip},
          {"target_recall", o.target_recall},
          {"append_eos", o.append_eos}};
}

ToyTrainStats toy_builder_stats(const nlohmann::json& j) {
  ToyTrainStats s;
  s.steps = j.value("steps", int64_t{0});
  s.final_loss = j.value("final_loss", 0.0);
  s.object_loss = j.value("object_loss", 0.0);
  s.recall.probes = j.value("prompts", int64_t{0});
  s.recall.probes_recalled = j.value("prompts_recalled", int64_t{0});
  s.recall.facts = j.value("facts", int64_t{0});
  s.recall.facts_recalled = j.value("facts_recalled", int64_t{0});
  s.reached_target = j.value("reached_target", false);
  s.seconds = j.value("seconds", 0.0);
  s.num_parameters = j.value("num_parameters", int64_t{0});
  s.training_sentences = j.value("training_sentences", int64_t{0});
  return s;
}

}  // namespace

ToyModelKey toy_model_key(const data::ToyWorld& world, const std::string& tokenizer_json,
                          const ToyModelOptions& model_options, const ToyTrainOptions& train_options) {
  std::string text;
  for (const std::string& line : world.training_lines()) text += line + "\n";
  nlohmann::ordered_json m;
  m["version"] = kToyTrainerVersion;
  m["world"] = toy_builder_world_json(world.options());
  m["training_text_fnv"] = toy_builder_hex(toy_builder_fnv(text));
  m["tokenizer_fnv"] = toy_builder_hex(toy_builder_fnv(tokenizer_json));
  m["model"] = toy_builder_model_json(model_options);
  m["train"] = toy_builder_train_json(train_options);
  ToyModelKey k;
  k.material = m.dump();
  k.key = toy_builder_hex(toy_builder_fnv(k.material));
  return k;
}

std::string complete_toy_model_key(const std::string& model_dir) {
  std::error_code ec;
  for (const char* f : kToyModelFiles) {
    if (!fs::is_regular_file(fs::path(model_dir) / f, ec)) return "";
  }
  try {
    const nlohmann::json j =
        nlohmann::json::parse(sharding::read_text_file((fs::path(model_dir) / "training.json").string()));
    return j.is_object() && j.contains("key") && j["key"].is_string() ? j["key"].get<std::string>() : "";
  } catch (const std::exception&) {
    return "";
  }
}

ToyModelBuild build_toy_model(const data::ToyWorld& world, const std::string& world_dir,
                              const std::string& model_dir, const ToyModelOptions& model_options,
                              const ToyTrainOptions& train_options, std::ostream* progress) {
  validate(model_options);
  validate(train_options);
  const std::string tokenizer_path = (fs::path(world_dir) / "tokenizer.json").string();
  const std::string tokenizer_config_path = (fs::path(world_dir) / "tokenizer_config.json").string();
  const std::string tokenizer_json = sharding::read_text_file(tokenizer_path);
  const std::string tokenizer_config = sharding::read_text_file(tokenizer_config_path);
  const ToyModelKey key = toy_model_key(world, tokenizer_json, model_options, train_options);

  ToyModelBuild build;
  build.model_dir = model_dir;
  build.key = key.key;
  const fs::path dir(model_dir);
  const std::string training_path = (dir / "training.json").string();
  const std::string existing = complete_toy_model_key(model_dir);
  if (!existing.empty() && existing == key.key) {
    build.reused = true;
    build.training_json = sharding::read_text_file(training_path);
    build.stats = toy_builder_stats(nlohmann::json::parse(build.training_json));
    if (progress) *progress << "train-toy: reusing " << model_dir << " (key " << key.key << ")" << std::endl;
    return build;
  }
  if (progress) {
    *progress << "train-toy: training " << model_dir << " (key " << key.key
              << (existing.empty() ? ", no complete model there" : ", replacing key " + existing) << ")"
              << std::endl;
  }
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) throw InputError(model_dir, "", "cannot create folder: " + ec.message());
  fs::remove(training_path, ec);
  if (ec) throw InputError(training_path, "", "cannot remove the stale file: " + ec.message());

  const model::Tokenizer tokenizer = model::Tokenizer::from_file(tokenizer_path);
  sharding::LocalCommunicator tp("toy-train");
  ToyTrainResult trained = train_toy_model(world, tokenizer, model_options, train_options, tp, progress);
  build.stats = trained.stats;

  data::write_file_atomic(
      (dir / "config.json").string(),
      toy_llama_config_json(model_options, tokenizer.vocab_size(),
                            {*tokenizer.bos_id(), *tokenizer.eos_id(), *tokenizer.pad_id()}));
  trained.model->save_weights(model_dir);
  data::write_file_atomic((dir / "tokenizer.json").string(), tokenizer_json);
  data::write_file_atomic((dir / "tokenizer_config.json").string(), tokenizer_config);

  const ToyTrainStats& s = trained.stats;
  nlohmann::ordered_json j;
  j["key"] = key.key;
  j["version"] = kToyTrainerVersion;
  j["seed"] = train_options.seed;
  j["steps"] = s.steps;
  j["final_loss"] = s.final_loss;
  j["object_loss"] = s.object_loss;
  j["recall"] = s.recall.recall();
  j["fact_recall"] = s.recall.fact_recall();
  j["prompts"] = s.recall.probes;
  j["prompts_recalled"] = s.recall.probes_recalled;
  j["facts"] = s.recall.facts;
  j["facts_recalled"] = s.recall.facts_recalled;
  j["reached_target"] = s.reached_target;
  j["seconds"] = s.seconds;
  j["num_parameters"] = s.num_parameters;
  j["training_sentences"] = s.training_sentences;
  j["world_dir"] = world_dir;
  j["world"] = toy_builder_world_json(world.options());
  j["model"] = toy_builder_model_json(model_options);
  j["train"] = toy_builder_train_json(train_options);
  j["key_material"] = key.material;
  build.training_json = j.dump(2) + "\n";
  data::write_file_atomic(training_path, build.training_json);
  if (progress && !s.reached_target) {
    *progress << "train-toy: warning: recall " << s.recall.recall() << " is below the target "
              << train_options.target_recall << " after " << s.steps << " steps (max_steps)" << std::endl;
  }
  return build;
}

}  // namespace revive::train
