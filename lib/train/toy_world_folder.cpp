#include "lib/train/toy_world_folder.h"

#include <nlohmann/json.hpp>

#include <filesystem>

#include "sharding/checkpoint/file_tree.h"
#include "sharding/errors.h"

namespace revive::train {

namespace {

std::string toy_folder_read(const std::string& path) {
  return sharding::read_text_file(path, "(is this a folder written by `revive toy-world`?)");
}

}  // namespace

data::ToyWorld read_toy_world_folder(const std::string& dir) {
  namespace fs = std::filesystem;
  const std::string world_path = (fs::path(dir) / "world.json").string();
  const std::string train_path = (fs::path(dir) / "train.txt").string();
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(toy_folder_read(world_path));
  } catch (const nlohmann::json::exception& e) {
    throw InputError(world_path, "", std::string("not valid JSON: ") + e.what());
  }
  if (!j.is_object() || !j.contains("options") || !j["options"].is_object()) {
    throw InputError(world_path, "options", "missing or not an object");
  }
  const nlohmann::json& jo = j["options"];
  data::ToyWorldOptions o;
  auto field = [&](const char* name, auto& out) {
    if (!jo.contains(name) || !jo[name].is_number_integer())
      throw InputError(world_path, std::string("options.") + name, "missing or not an integer");
    out = jo[name].get<std::decay_t<decltype(out)>>();
  };
  field("seed", o.seed);
  field("num_subjects", o.num_subjects);
  field("num_relations", o.num_relations);
  field("objects_per_relation", o.objects_per_relation);
  field("phrasings_per_relation", o.phrasings_per_relation);
  field("neighbors_per_request", o.neighbors_per_request);
  // Worlds written before general text existed have none.
  if (jo.contains("general_sentences")) field("general_sentences", o.general_sentences);
  if (jo.contains("held_out_sentences")) field("held_out_sentences", o.held_out_sentences);
  data::ToyWorld world = data::ToyWorld::generate(o);

  if (!j.contains("subjects") || j["subjects"] != nlohmann::json(world.subjects())) {
    throw InputError(world_path, "subjects",
                     "differ from what this build generates for the folder's options; regenerate the folder "
                     "with `revive toy-world`");
  }
  std::string expected;
  for (const std::string& line : world.training_lines()) expected += line + "\n";
  if (toy_folder_read(train_path) != expected) {
    throw InputError(train_path, "",
                     "differs from the training text of world.json's options; regenerate the "
                     "folder with `revive toy-world`");
  }
  return world;
}

}  // namespace revive::train
