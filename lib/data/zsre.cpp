#include "lib/data/zsre.h"

#include "lib/data/json_fields.h"
#include "lib/data/record_list_reader.h"

namespace revive::data {

using nlohmann::json;

namespace {

std::string zsre_field(const std::string& field, ZsreTarget target) {
  if (field == "prompt_template") return "src";
  if (field == "target_new") return target == ZsreTarget::kAlt ? "alt" : "answers[0]";
  if (field == "target_true") return "answers[0]";
  if (field == "paraphrase_prompts[0]") return "rephrase";
  if (field == "neighborhood_prompts[0]") return "loc";
  if (field == "neighborhood_target") return "loc_ans";
  return field;
}

EditRequest parse_zsre_record(const json& record, std::size_t index, ZsreTarget target) {
  require_object(record, "");
  EditRequest r;
  r.case_id = static_cast<int64_t>(index);
  const std::string src = string_field(record, "src");
  r.subject = string_field(record, "subject");
  const std::vector<std::string> answers = string_list_field(record, "answers", false);
  if (answers.empty()) throw RecordError{"answers", "is an empty list"};
  if (target == ZsreTarget::kAlt) {
    r.target_new = string_field(record, "alt");
    r.target_true = answers[0];
  } else {
    r.target_new = answers[0];
  }
  TemplateResult t = template_from_filled(src, r.subject);
  if (t.problem) throw RecordError{t.problem->field == "prompt" ? "src" : t.problem->field, t.problem->what};
  r.prompt_template = std::move(t.prompt_template);
  if (auto p = optional_string_field(record, "rephrase")) r.paraphrase_prompts.push_back(*p);
  if (auto p = optional_string_field(record, "loc")) r.neighborhood_prompts.push_back(*p);
  r.neighborhood_target = optional_string_field(record, "loc_ans").value_or("");
  return r;
}

}  // namespace

ReadResult read_zsre(const std::string& file, const ZsreOptions& options) {
  return read_zsre(load_record_list(file), options);
}

ReadResult read_zsre(const RecordList& list, const ZsreOptions& options) {
  return read_record_list(
      list, options.read,
      [&](const json& record, std::size_t i) { return parse_zsre_record(record, i, options.target); },
      [&](const std::string& f) { return zsre_field(f, options.target); });
}

}  // namespace revive::data
