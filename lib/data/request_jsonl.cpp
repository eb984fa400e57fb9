#include "lib/data/request_jsonl.h"

#include <array>
#include <fstream>

#include "lib/data/atomic_file.h"
#include "lib/data/json_fields.h"
#include "sharding/checkpoint/file_tree.h"
#include "sharding/checkpoint/strict_json.h"
#include "sharding/errors.h"

namespace revive::data {

using nlohmann::json;

namespace {

constexpr std::array<const char*, 11> kKeys = {
    "case_id",           "prompt_template",      "subject",
    "target_new",        "target_true",          "relation_id",
    "paraphrase_prompts", "neighborhood_prompts", "neighborhood_target",
    "attribute_prompts", "generation_prompts"};

EditRequest parse_jsonl_record(const json& record) {
  require_object(record, "");
  for (const auto& item : record.items()) {
    bool known = false;
    for (const char* k : kKeys) known = known || item.key() == k;
    if (!known) throw RecordError{item.key(), "unknown field"};
  }
  EditRequest r;
  r.case_id = optional_int_field(record, "case_id");
  r.prompt_template = string_field(record, "prompt_template");
  r.subject = string_field(record, "subject");
  r.target_new = string_field(record, "target_new");
  r.target_true = optional_string_field(record, "target_true").value_or("");
  r.relation_id = optional_string_field(record, "relation_id").value_or("");
  r.paraphrase_prompts = string_list_field(record, "paraphrase_prompts", true);
  r.neighborhood_prompts = string_list_field(record, "neighborhood_prompts", true);
  r.neighborhood_target = optional_string_field(record, "neighborhood_target").value_or("");
  r.attribute_prompts = string_list_field(record, "attribute_prompts", true);
  r.generation_prompts = string_list_field(record, "generation_prompts", true);
  return r;
}

// Keys in EditRequest's order (ordered_json), so lines read naturally.
nlohmann::ordered_json to_json(const EditRequest& r) {
  nlohmann::ordered_json j = nlohmann::ordered_json::object();
  j["case_id"] = r.case_id ? nlohmann::ordered_json(*r.case_id) : nlohmann::ordered_json(nullptr);
  j["prompt_template"] = r.prompt_template;
  j["subject"] = r.subject;
  j["target_new"] = r.target_new;
  j["target_true"] = r.target_true;
  j["relation_id"] = r.relation_id;
  j["paraphrase_prompts"] = r.paraphrase_prompts;
  j["neighborhood_prompts"] = r.neighborhood_prompts;
  j["neighborhood_target"] = r.neighborhood_target;
  j["attribute_prompts"] = r.attribute_prompts;
  j["generation_prompts"] = r.generation_prompts;
  return j;
}

}  // namespace

ReadResult read_requests_jsonl(const std::string& file, const ReadOptions& options) {
  sharding::refuse_directory(file);
  std::ifstream in(file, std::ios::binary);
  if (!in) throw InputError(file, "", "cannot open file");
  RecordSink sink(file, options);
  std::string line;
  for (std::size_t index = 0; std::getline(in, line); ++index) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (is_blank(line)) continue;
    EditRequest request;
    try {
      const sharding::StrictJson record = sharding::parse_json_strict(line);
      if (!record.ok()) {
        throw RecordError{record.error_path.empty() ? "<record>" : record.error_path, record.error};
      }
      request = parse_jsonl_record(record.value);
    } catch (const RecordError& e) {
      sink.fail(index, e.field, e.what);
      continue;
    }
    if (!sink.accept(index, std::move(request), [](const std::string& f) { return f; })) break;
  }
  if (in.bad()) throw InputError(file, "", "read error");
  return sink.take();
}

void write_requests_jsonl(const std::string& file, const std::vector<EditRequest>& requests) {
  std::string out;
  for (std::size_t i = 0; i < requests.size(); ++i) {
    try {
      out += to_json(requests[i]).dump();
    } catch (const nlohmann::ordered_json::type_error& e) {  // e.g. a string that is not UTF-8
      throw InputError(file, "[" + std::to_string(i) + "]", std::string("cannot encode: ") + e.what());
    }
    out += '\n';
  }
  write_file_atomic(file, out);
}

}  // namespace revive::data
