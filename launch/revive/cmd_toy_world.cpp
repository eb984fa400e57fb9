// `revive toy-world`: writes the toy fact world (DESIGN.md section 6) to a folder:
// requests.json (CounterFact schema), train.txt, tokenizer.json, world.json, ...
#include <nlohmann/json.hpp>

#include <iostream>

#include "launch/revive/command.h"
#include "launch/revive/common_options.h"
#include "launch/revive/toy_world_options.h"
#include "lib/data/toy_world.h"
#include "lib/data/toy_world_export.h"
#include "sharding/errors.h"

namespace revive::cli {

Command toy_world_command() {
  Command c;
  c.name = "toy-world";
  c.summary = "generate the synthetic fact world the toy model learns (requests, training text, tokenizer)";
  c.add_options = [](po::options_description& d) {
    po::options_description w =
        toy_world_options("folder to write the world files to", "generator seed");
    d.add(w);
    d.add(output_options());
  };
  c.run = [](const po::variables_map& vm, sharding::CommRuntime& rt) {
    if (rt.world()->size() > 1)
      throw Error("toy-world runs as a single process (got " + std::to_string(rt.world()->size()) + " ranks)");
    const data::ToyWorldOptions o = toy_world_options(vm);
    const data::ToyWorld world = data::ToyWorld::generate(o);
    const std::string out = vm["out"].as<std::string>();
    const data::ToyWorldFiles files = data::write_toy_world(world, out);
    if (is_on(vm, "json")) {
      nlohmann::ordered_json j;
      j["out"] = out;
      j["facts"] = world.facts().size();
      j["requests"] = world.requests().size();
      j["training_sentences"] = world.training_lines().size();
      j["vocabulary"] = world.vocabulary().size();
      j["requests_file"] = files.requests;
      j["tokenizer"] = files.tokenizer;
      std::cout << j.dump() << std::endl;
    } else {
      std::cout << "toy world: " << world.subjects().size() << " subjects x " << world.relations().size()
                << " relations = " << world.facts().size() << " facts, " << world.training_lines().size()
                << " training sentences, " << world.vocabulary().size() << " words -> " << out << std::endl;
    }
    return 0;
  };
  return c;
}

REVIVE_REGISTER_COMMAND(toy_world_command);

}  // namespace revive::cli
