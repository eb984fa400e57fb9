#include "lib/data/counterfact_easyedit.h"

#include "lib/data/json_fields.h"
#include "lib/data/record_list_reader.h"

namespace revive::data {

using nlohmann::json;

namespace {

std::string easyedit_field(const std::string& field) {
  if (field == "prompt_template") return "prompt";
  if (field == "target_true") return "ground_truth";
  if (field == "paraphrase_prompts[0]") return "rephrase_prompt";
  if (field == "neighborhood_prompts[0]") return "locality_prompt";
  if (field == "neighborhood_target") return "locality_ground_truth";
  return field;
}

EditRequest parse_easyedit_record(const json& record) {
  require_object(record, "");
  EditRequest r;
  r.case_id = optional_int_field(record, "case_id");
  const std::string prompt = string_field(record, "prompt");
  r.subject = string_field(record, "subject");
  r.target_new = string_field(record, "target_new");
  r.target_true = string_field(record, "ground_truth");
  TemplateResult t = template_from_filled(prompt, r.subject);
  if (t.problem) throw RecordError{t.problem->field, t.problem->what};
  r.prompt_template = std::move(t.prompt_template);
  if (auto p = optional_string_field(record, "rephrase_prompt")) r.paraphrase_prompts.push_back(*p);
  if (auto p = optional_string_field(record, "locality_prompt")) r.neighborhood_prompts.push_back(*p);
  r.neighborhood_target = optional_string_field(record, "locality_ground_truth").value_or("");
  return r;
}

}  // namespace

ReadResult read_counterfact_easyedit(const std::string& file, const ReadOptions& options) {
  return read_counterfact_easyedit(load_record_list(file), options);
}

ReadResult read_counterfact_easyedit(const RecordList& list, const ReadOptions& options) {
  return read_record_list(
      list, options, [](const json& record, std::size_t) { return parse_easyedit_record(record); },
      easyedit_field);
}

}  // namespace revive::data
