// `revive export`: the model an edit run holds at a checkpoint, written as a
// folder in the original model's layout (lib/export/model_export.h).
#include <nlohmann/json.hpp>

#include <chrono>
#include <iostream>

#include "launch/revive/command.h"
#include "launch/revive/common_options.h"
#include "lib/export/model_export.h"
#include "sharding/errors.h"

namespace revive::cli {

Command export_command() {
  Command c;
  c.name = "export";
  c.summary = "write the edited model of a run's checkpoint as a model folder (original layout and dtype)";
  c.add_options = [](po::options_description& d) {
    po::options_description e(
        "Export (the original folder's files, with the edited tensors gathered from their tp shards and cast back to "
        "each file's dtype, round to nearest even; everything else byte-identical. Written to a hidden sibling "
        "folder and renamed, so a failed or killed export leaves nothing at --out. Under mpirun, rank 0 does the "
        "whole export, reading every tp shard file itself, and the other ranks wait)");
    e.add_options()
        ("run", po::value<std::string>()->required(), "the edit run's folder (the --out of `revive edit`)")
        ("model", po::value<std::string>()->required(),
         "the model folder the run edited (checked against state.json's run_config.model fingerprint)")
        ("out", po::value<std::string>()->required(), "the folder to write (must not exist, unless --force)")
        ("at-edits", po::value<int64_t>(), "the run's checkpoint at N edits (default: the latest)")
        ("force", on_off(), "replace an existing --out folder (only once the new one is complete)")
        ("link", on_off(), "hard-link the files without edited tensors instead of copying them")
        ("no-edit-record", on_off(), "write no revive_edit.json (the run's editor, layers, edits and settings)");
    d.add(e).add(output_options());
  };
  c.run = [](const po::variables_map& vm, sharding::CommRuntime& rt) {
    exporting::ExportOptions o;
    o.run_dir = vm["run"].as<std::string>();
    o.model_dir = vm["model"].as<std::string>();
    o.out_dir = vm["out"].as<std::string>();
    if (vm.count("at-edits")) {
      o.at_edits = vm["at-edits"].as<int64_t>();
      if (o.at_edits < 0) throw InputError("--at-edits", "", "must not be negative");
    }
    o.force = is_on(vm, "force");
    o.link_unedited = is_on(vm, "link");
    o.edit_record = !is_on(vm, "no-edit-record");
    const std::unique_ptr<sharding::Communicator> world = rt.world();
    if (world->rank() == 0) {
      const exporting::ExportSummary s = exporting::export_edited_model(o);
      for (const std::string& w : s.warnings) std::cerr << "revive export: warning: " << w << std::endl;
      if (!s.skipped_files.empty()) {
        std::string names;
        for (const std::string& f : s.skipped_files) names += (names.empty() ? "" : ", ") + f;
        std::cerr << "revive export: left out (weights in formats REVIVE does not edit, hidden entries): " << names
                  << std::endl;
      }
      if (is_on(vm, "json")) {
        nlohmann::json j;
        j["command"] = "export";
        j["out"] = s.out_dir;
        j["checkpoint"] = s.checkpoint_dir;
        j["edits"] = s.edits;
        j["tp_size"] = s.tp_size;
        j["edited_tensors"] = s.edited_tensors;
        j["rewritten_files"] = s.rewritten_files;
        j["copied_files"] = s.copied_files;
        j["skipped_files"] = s.skipped_files;
        j["warnings"] = s.warnings;
        j["seconds"] = s.seconds;
        std::cout << j.dump() << std::endl;
      } else {
        std::cout << "revive export: " << s.out_dir << " from " << s.checkpoint_dir << " (" << s.edits
                  << " edits, tp " << s.tp_size << "): " << s.edited_tensors.size() << " edited tensors in "
                  << s.rewritten_files.size() << " rewritten file(s), " << s.copied_files.size() << " file(s) "
                  << (o.link_unedited ? "linked or copied" : "copied") << ", " << s.seconds << " s" << std::endl;
      }
    }
    // The other ranks wait for rank 0 (an error there aborts the job); an export
    // of a large model may take longer than the default collective timeout.
    sharding::BarrierOptions wait;
    wait.timeout = std::chrono::hours(24);
    world->barrier(wait);
    return 0;
  };
  return c;
}

REVIVE_REGISTER_COMMAND(export_command);

}  // namespace revive::cli
