// `revive story-world`: a generated stream of story-world requests for a
// TinyStories model (lib/edit/run/story_world_stream.h), written as REVIVE's
// JSONL request file so that `revive edit --requests FILE` runs it.
#include <nlohmann/json.hpp>

#include <iostream>
#include <map>

#include "launch/revive/command.h"
#include "launch/revive/common_options.h"
#include "lib/data/request_jsonl.h"
#include "lib/edit/run/story_world_stream.h"
#include "lib/model/model_loader.h"
#include "lib/model/tokenizer.h"
#include "sharding/comm/local_communicator.h"
#include "sharding/errors.h"

namespace revive::cli {

Command story_world_command() {
  Command c;
  c.name = "story-world";
  c.summary = "generate story-world edit requests (invented names, objects chosen on the model) as JSONL";
  c.add_options = [](po::options_description& d) {
    po::options_description s("Story world");
    s.add_options()
        ("model", po::value<std::string>()->required(), "HF model folder of a TinyStories model (stories260K)")
        ("seed", po::value<uint64_t>()->default_value(1), "stream seed (>= 1; the fixed 50 requests are seed 0)")
        ("count", po::value<int64_t>()->default_value(1000), "requests to generate")
        ("out", po::value<std::string>()->required(), "JSONL request file to write (atomically)");
    d.add(s).add(output_options());
  };
  c.run = [](const po::variables_map& vm, sharding::CommRuntime& rt) {
    if (rt.world()->size() > 1)
      throw Error("story-world runs as a single process (got " + std::to_string(rt.world()->size()) + " ranks)");
    const int64_t count = vm["count"].as<int64_t>();
    if (count < 1) throw InputError("--count", "", "must be >= 1, got " + std::to_string(count));
    const std::string folder = vm["model"].as<std::string>(), out = vm["out"].as<std::string>();
    const uint64_t seed = vm["seed"].as<uint64_t>();
    const model::Tokenizer tokenizer = model::Tokenizer::from_file(folder);
    sharding::LocalCommunicator tp("tp");
    const auto model = model::load_model(folder, tp);
    const auto requests = edit::story_world_stream(*model, tokenizer, seed, static_cast<size_t>(count));
    data::write_requests_jsonl(out, requests);
    std::map<std::string, int64_t> per_relation;
    for (const data::EditRequest& q : requests) ++per_relation[q.relation_id];
    if (is_on(vm, "json")) {
      nlohmann::ordered_json j;
      j["command"] = "story-world";
      j["out"] = out;
      j["seed"] = seed;
      j["requests"] = requests.size();
      j["per_relation"] = per_relation;
      std::cout << j.dump() << std::endl;
    } else {
      std::cout << "story world: " << requests.size() << " requests (seed " << seed << ") -> " << out << std::endl;
    }
    return 0;
  };
  return c;
}

REVIVE_REGISTER_COMMAND(story_world_command);

}  // namespace revive::cli
