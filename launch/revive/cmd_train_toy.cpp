// `revive train-toy`: teaches a small Llama the toy fact world of a folder
// written by `revive toy-world` and saves it as an HF checkpoint (cached).
// `revive toy-model`: both steps in one - <out>/world and <out>/model - as
// launch/demo.sh uses it.
#include <ATen/Parallel.h>
#include <nlohmann/json.hpp>

#include <cstdio>
#include <filesystem>
#include <iostream>

#include "launch/revive/command.h"
#include "launch/revive/common_options.h"
#include "launch/revive/toy_world_options.h"
#include "lib/data/toy_world_export.h"
#include "lib/train/toy_model_builder.h"
#include "lib/train/toy_world_folder.h"
#include "sharding/errors.h"

namespace revive::cli {

namespace {

// A default as --help shows it: 0.95, not 0.94999999999999996.
std::string help_number(double x) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", x);
  return buf;
}

// Not ToyModelOptions' 2 (sized for the unit tests): a model `edit --preset
// toy` can edit without --layers.
constexpr int64_t kCliToyLayers = 4;

po::options_description train_toy_options() {
  const train::ToyModelOptions m;
  const train::ToyTrainOptions t;
  po::options_description d("Toy model and training");
  d.add_options()("hidden", po::value<int64_t>()->default_value(m.hidden_size), "hidden size")(
      "layers", po::value<int64_t>()->default_value(kCliToyLayers),
      "decoder layers (4, as the demo: the toy preset edits layers 1-2)")(
      "heads", po::value<int64_t>()->default_value(m.num_heads), "attention heads")(
      "intermediate", po::value<int64_t>()->default_value(m.intermediate_size), "MLP intermediate size")(
      "train-seed", po::value<uint64_t>(), "seed of the weights and data order (default: --seed)")(
      "steps", po::value<int64_t>()->default_value(t.max_steps), "maximum optimizer steps")(
      "batch", po::value<int64_t>()->default_value(t.batch_size), "sentences per step")(
      "lr", po::value<double>()->default_value(t.learning_rate, help_number(t.learning_rate)), "peak learning rate (AdamW)")(
      "warmup", po::value<int64_t>()->default_value(t.warmup_steps), "linear warmup steps")(
      "weight-decay", po::value<double>()->default_value(t.weight_decay, help_number(t.weight_decay)), "AdamW weight decay")(
      "target-recall", po::value<double>()->default_value(t.target_recall, help_number(t.target_recall)),
      "stop once this fraction of fact prompts is recalled")(
      "log-every", po::value<int64_t>()->default_value(t.log_every),
      "progress line every N steps on stderr (0: none)")(
      "threads", po::value<int>()->default_value(1),
      "LibTorch intra-op threads (0: LibTorch's default); the toy "
      "model's matrices are small, so one thread is fastest");
  return d;
}

void train_toy_parse(const po::variables_map& vm, uint64_t default_seed, train::ToyModelOptions& m,
                     train::ToyTrainOptions& t) {
  m.hidden_size = vm["hidden"].as<int64_t>();
  m.num_layers = vm["layers"].as<int64_t>();
  m.num_heads = vm["heads"].as<int64_t>();
  m.intermediate_size = vm["intermediate"].as<int64_t>();
  t.seed = vm.count("train-seed") ? vm["train-seed"].as<uint64_t>() : default_seed;
  t.max_steps = vm["steps"].as<int64_t>();
  t.batch_size = vm["batch"].as<int64_t>();
  t.learning_rate = vm["lr"].as<double>();
  t.warmup_steps = vm["warmup"].as<int64_t>();
  t.weight_decay = vm["weight-decay"].as<double>();
  t.target_recall = vm["target-recall"].as<double>();
  t.log_every = vm["log-every"].as<int64_t>();
  const int threads = vm["threads"].as<int>();
  if (threads < 0) throw Error("--threads must not be negative");
  if (threads > 0) at::set_num_threads(threads);
  train::validate(m);
  train::validate(t);
}

int train_toy_finish(const po::variables_map& vm, const train::ToyModelBuild& b,
                     const std::string& world_dir) {
  if (is_on(vm, "json")) {
    nlohmann::ordered_json j;
    j["model_dir"] = b.model_dir;
    j["world_dir"] = world_dir;
    j["requests"] = (std::filesystem::path(world_dir) / "requests.json").string();
    j["reused"] = b.reused;
    j["key"] = b.key;
    j["training"] = nlohmann::ordered_json::parse(b.training_json);
    std::cout << j.dump() << std::endl;
  } else {
    std::cout << (b.reused ? "toy model (reused): " : "toy model: ") << b.model_dir << "  recall "
              << b.stats.recall.recall() << " (" << b.stats.recall.probes_recalled << "/"
              << b.stats.recall.probes << " prompts), " << b.stats.steps << " steps, " << b.stats.seconds
              << " s of training" << std::endl;
  }
  return 0;
}

void train_toy_single_process(sharding::CommRuntime& rt, const char* name) {
  if (rt.world()->size() > 1) {
    throw Error(std::string(name) + " runs as a single process (got " + std::to_string(rt.world()->size()) +
                " ranks)");
  }
}

}  // namespace

Command train_toy_command() {
  Command c;
  c.name = "train-toy";
  c.summary = "train the toy Llama on a toy world folder and save it as an HF checkpoint (cached)";
  c.add_options = [](po::options_description& d) {
    po::options_description io("Folders");
    io.add_options()("world", po::value<std::string>()->required(),
                     "toy world folder (from `revive toy-world`)")(
        "out", po::value<std::string>()->required(), "model folder to write (or reuse)")(
        "seed", po::value<uint64_t>()->default_value(1), "training seed (weights, data order)");
    d.add(io);
    d.add(train_toy_options());
    d.add(output_options());
  };
  c.run = [](const po::variables_map& vm, sharding::CommRuntime& rt) {
    train_toy_single_process(rt, "train-toy");
    train::ToyModelOptions m;
    train::ToyTrainOptions t;
    train_toy_parse(vm, vm["seed"].as<uint64_t>(), m, t);
    const std::string world_dir = vm["world"].as<std::string>();
    const data::ToyWorld world = train::read_toy_world_folder(world_dir);
    const train::ToyModelBuild b =
        train::build_toy_model(world, world_dir, vm["out"].as<std::string>(), m, t, &std::cerr);
    return train_toy_finish(vm, b, world_dir);
  };
  return c;
}

Command toy_model_command() {
  Command c;
  c.name = "toy-model";
  c.summary = "make (or reuse) the toy fact world and its trained model: <out>/world, <out>/model";
  c.add_options = [](po::options_description& d) {
    po::options_description world = toy_world_options(
        "folder for world/ and model/", "world seed (and training seed unless --train-seed)");
    d.add(world);
    d.add(train_toy_options());
    d.add(output_options());
  };
  c.run = [](const po::variables_map& vm, sharding::CommRuntime& rt) {
    train_toy_single_process(rt, "toy-model");
    const data::ToyWorldOptions wo = toy_world_options(vm);
    train::ToyModelOptions m;
    train::ToyTrainOptions t;
    train_toy_parse(vm, wo.seed, m, t);
    const data::ToyWorld world = data::ToyWorld::generate(wo);
    const std::filesystem::path out(vm["out"].as<std::string>());
    const std::string world_dir = (out / "world").string();
    data::write_toy_world(world, world_dir);
    const train::ToyModelBuild b =
        train::build_toy_model(world, world_dir, (out / "model").string(), m, t, &std::cerr);
    return train_toy_finish(vm, b, world_dir);
  };
  return c;
}

REVIVE_REGISTER_COMMAND(train_toy_command);
REVIVE_REGISTER_COMMAND(toy_model_command);

}  // namespace revive::cli
