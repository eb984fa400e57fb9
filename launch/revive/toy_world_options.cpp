#include "launch/revive/toy_world_options.h"

#include <string>

namespace revive::cli {

namespace po = boost::program_options;

po::options_description toy_world_options(const char* out_help, const char* seed_help) {
  const data::ToyWorldOptions def;
  po::options_description w("Toy world");
  w.add_options()("out", po::value<std::string>()->required(), out_help)(
      "seed", po::value<uint64_t>()->default_value(def.seed), seed_help)(
      "subjects", po::value<int>()->default_value(def.num_subjects), "number of invented subjects")(
      "relations", po::value<int>()->default_value(def.num_relations), "number of relations (1..8)")(
      "objects", po::value<int>()->default_value(def.objects_per_relation),
      "objects per relation (0: the whole vocabulary of 12)")(
      "phrasings", po::value<int>()->default_value(def.phrasings_per_relation),
      "phrasings per relation (1..5)")("neighbors",
                                       po::value<int>()->default_value(def.neighbors_per_request),
                                       "neighbourhood prompts per request")(
      "general-sentences", po::value<int>()->default_value(def.general_sentences),
      "general (non-fact) sentences of the world's small grammar mixed into the training text")(
      "held-out-sentences", po::value<int>()->default_value(def.held_out_sentences),
      "held-out general sentences written to held_out.txt (perplexity that states no fact)");
  return w;
}

data::ToyWorldOptions toy_world_options(const po::variables_map& vm) {
  data::ToyWorldOptions o;
  o.seed = vm["seed"].as<uint64_t>();
  o.num_subjects = vm["subjects"].as<int>();
  o.num_relations = vm["relations"].as<int>();
  o.objects_per_relation = vm["objects"].as<int>();
  o.phrasings_per_relation = vm["phrasings"].as<int>();
  o.neighbors_per_request = vm["neighbors"].as<int>();
  o.general_sentences = vm["general-sentences"].as<int>();
  o.held_out_sentences = vm["held-out-sentences"].as<int>();
  return o;
}

}  // namespace revive::cli
