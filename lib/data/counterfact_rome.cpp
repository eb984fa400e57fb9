#include "lib/data/counterfact_rome.h"

#include "lib/data/atomic_file.h"
#include "lib/data/json_fields.h"
#include "lib/data/record_list_reader.h"
#include "sharding/errors.h"

namespace revive::data {

using nlohmann::json;

namespace {

constexpr const char* kRewrite = "requested_rewrite";

std::string rome_field(const std::string& field) {
  if (field == "prompt_template") return "requested_rewrite.prompt";
  if (field == "subject") return "requested_rewrite.subject";
  if (field == "target_new") return "requested_rewrite.target_new.str";
  if (field == "target_true") return "requested_rewrite.target_true.str";
  if (field == "relation_id") return "requested_rewrite.relation_id";
  return field;  // case_id and the prompt lists keep their names
}

std::string target_string(const json& rewrite, const std::string& key) {
  const json& target = require_field(rewrite, key, kRewrite);
  require_object(target, join_path(kRewrite, key));
  return string_field(target, "str", join_path(kRewrite, key));
}

EditRequest parse_rome_record(const json& record) {
  require_object(record, "");
  EditRequest r;
  r.case_id = optional_int_field(record, "case_id");
  const json& rewrite = require_field(record, kRewrite);
  require_object(rewrite, kRewrite);
  r.prompt_template = string_field(rewrite, "prompt", kRewrite);
  r.subject = string_field(rewrite, "subject", kRewrite);
  r.target_new = target_string(rewrite, "target_new");
  r.target_true = target_string(rewrite, "target_true");
  r.relation_id = optional_string_field(rewrite, "relation_id", kRewrite).value_or("");
  r.paraphrase_prompts = string_list_field(record, "paraphrase_prompts", true);
  r.neighborhood_prompts = string_list_field(record, "neighborhood_prompts", true);
  r.attribute_prompts = string_list_field(record, "attribute_prompts", true);
  r.generation_prompts = string_list_field(record, "generation_prompts", true);
  r.neighborhood_target = optional_string_field(record, "neighborhood_target").value_or("");
  return r;
}

}  // namespace

ReadResult read_counterfact_rome(const std::string& file, const ReadOptions& options) {
  return read_counterfact_rome(load_record_list(file), options);
}

ReadResult read_counterfact_rome(const RecordList& list, const ReadOptions& options) {
  return read_record_list(
      list, options, [](const json& record, std::size_t) { return parse_rome_record(record); }, rome_field);
}

void write_counterfact_rome(const std::string& file, const std::vector<EditRequest>& requests) {
  // Key order as in ROME's counterfact.json.
  using ordered = nlohmann::ordered_json;
  ordered out = ordered::array();
  for (const EditRequest& r : requests) {
    ordered rewrite = {{"prompt", r.prompt_template},
                       {"relation_id", r.relation_id},
                       {"target_new", {{"str", r.target_new}}},
                       {"target_true", {{"str", r.target_true}}},
                       {"subject", r.subject}};
    ordered record = ordered::object();
    if (r.case_id) record["case_id"] = *r.case_id;
    record[kRewrite] = std::move(rewrite);
    record["paraphrase_prompts"] = r.paraphrase_prompts;
    record["neighborhood_prompts"] = r.neighborhood_prompts;
    record["attribute_prompts"] = r.attribute_prompts;
    record["generation_prompts"] = r.generation_prompts;
    if (!r.neighborhood_target.empty()) record["neighborhood_target"] = r.neighborhood_target;
    out.push_back(std::move(record));
  }
  std::string text;
  try {
    text = out.dump(1) + "\n";
  } catch (const nlohmann::json::type_error& e) {  // e.g. a string that is not UTF-8
    throw InputError(file, "", std::string("cannot encode the requests: ") + e.what());
  }
  write_file_atomic(file, text);
}

}  // namespace revive::data
