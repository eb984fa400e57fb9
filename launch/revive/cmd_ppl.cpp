// `revive ppl`: perplexity of a model on a text corpus, documents split over the
// dp ranks of the process grid.
#include <nlohmann/json.hpp>

#include <iostream>

#include "launch/revive/command.h"
#include "launch/revive/common_options.h"
#include "lib/data/text_corpus.h"
#include "lib/eval/perplexity.h"
#include "lib/model/model_loader.h"
#include "lib/model/tokenizer.h"
#include "sharding/errors.h"

namespace revive::cli {

Command ppl_command() {
  Command c;
  c.name = "ppl";
  c.summary = "perplexity of a model on a text corpus";
  c.add_options = [](po::options_description& d) {
    po::options_description p("Perplexity");
    p.add_options()
        ("model", po::value<std::string>()->required(), "HF model folder (config.json, safetensors, tokenizer.json)")
        ("text", po::value<std::string>()->required(), "corpus file")
        ("split", po::value<std::string>()->default_value("separator"),
         "documents: separator (--separator), lines, blank-lines, whole, json (a list of objects)")
        ("separator", po::value<std::string>()->default_value("<|endoftext|>"), "document separator")
        ("json-field", po::value<std::string>()->default_value("Text"), "--split json: the text field")
        ("max-documents", po::value<int64_t>()->default_value(0), "first N documents (0: all)")
        ("max-length", po::value<int64_t>()->default_value(0),
         "tokens per window incl. BOS (0: the model's context length)")
        ("truncate", on_off(), "score only each document's first window")
        ("batch-size", po::value<int64_t>()->default_value(8), "windows per forward pass");
    d.add(p).add(grid_options()).add(device_options()).add(output_options());
  };
  c.run = [](const po::variables_map& vm, sharding::CommRuntime& rt) {
    sharding::ProcessGrid grid(rt.world(), grid_spec(vm));
    const std::string folder = vm["model"].as<std::string>();
    const std::string file = vm["text"].as<std::string>();
    data::CorpusOptions corpus;
    corpus.split = data::parse_document_split(vm["split"].as<std::string>(), "--split");
    corpus.separator = vm["separator"].as<std::string>();
    corpus.json_field = vm["json-field"].as<std::string>();
    corpus.max_documents = count_option(vm, "max-documents");
    eval::PerplexityOptions opts;
    opts.max_length = vm["max-length"].as<int64_t>();
    opts.truncate = is_on(vm, "truncate");
    opts.batch_size = vm["batch-size"].as<int64_t>();

    const model::Tokenizer tokenizer = model::Tokenizer::from_file(folder);
    auto model = model::load_model(folder, grid.tp(), load_options(vm, rt, grid.tp().size()));
    const model::ModelConfig& config = model->config();
    if (config.within_positions(opts.max_length) < opts.max_length) {
      throw InputError("--max-length", "", std::to_string(opts.max_length) + " exceeds the model's " +
                                               std::to_string(config.max_position_embeddings) +
                                               " positions (max_position_embeddings)");
    }
    const eval::PerplexityResult r = eval::evaluate_perplexity_file(*model, tokenizer, file, corpus, opts, &grid.dp());
    if (grid.world().rank() == 0) {
      if (is_on(vm, "json")) {
        nlohmann::json j;
        j["command"] = "ppl";
        j["model"] = folder;
        j["text"] = file;
        j["total_nll"] = r.total_nll;
        j["metrics"] = eval::metrics_json(r.metrics());
        std::cout << j.dump() << std::endl;
      } else {
        std::cout << "revive ppl: " << folder << " on " << file << " (dp " << grid.dp_size() << ", tp "
                  << grid.tp_size() << ")\n"
                  << eval::format_metric_table(r.metrics()) << std::flush;
      }
    }
    return 0;
  };
  return c;
}

REVIVE_REGISTER_COMMAND(ppl_command);

}  // namespace revive::cli
