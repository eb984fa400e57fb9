#include "lib/data/request_files.h"

#include <algorithm>
#include <optional>

#include "lib/data/counterfact_easyedit.h"
#include "lib/data/counterfact_rome.h"
#include "lib/data/json_fields.h"
#include "lib/data/request_jsonl.h"
#include "sharding/checkpoint/file_tree.h"
#include "sharding/checkpoint/strict_json.h"
#include "sharding/errors.h"

namespace revive::data {

namespace {
struct FormatName {
  RequestFormat format;
  const char* name;
};
constexpr FormatName kNames[] = {{RequestFormat::kAuto, "auto"},
                                 {RequestFormat::kCounterFactRome, "counterfact"},
                                 {RequestFormat::kCounterFactEasyEdit, "counterfact-easyedit"},
                                 {RequestFormat::kZsre, "zsre"},
                                 {RequestFormat::kJsonl, "jsonl"}};

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// A JSONL file of several lines under another name is no single JSON
// document, but its first non-blank line alone is a JSON object.
bool first_line_is_object(const std::string& text) {
  for (std::size_t begin = 0; begin < text.size();) {
    const std::size_t end = std::min(text.find('\n', begin), text.size());
    const std::string line = text.substr(begin, end - begin);
    if (!is_blank(line)) return nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false).is_object();
    begin = end + 1;
  }
  return false;
}

// The format one list record identifies, if any. EasyEdit is checked before
// zsRE: EasyEdit records may carry extra "src" and "alt" keys.
std::optional<RequestFormat> format_of_record(const nlohmann::json& record) {
  if (!record.is_object()) return std::nullopt;
  if (record.contains("requested_rewrite")) return RequestFormat::kCounterFactRome;
  if (record.contains("prompt") && (record.contains("ground_truth") || record.contains("target_new"))) {
    return RequestFormat::kCounterFactEasyEdit;
  }
  if (record.contains("src") && record.contains("alt")) return RequestFormat::kZsre;
  return std::nullopt;
}
}  // namespace

RequestFormat parse_request_format(const std::string& name, const std::string& option) {
  for (const auto& n : kNames) {
    if (name == n.name) return n.format;
  }
  throw InputError(option, "",
                   "unknown request format \"" + name +
                       "\" (auto, counterfact, counterfact-easyedit, zsre, jsonl)");
}

std::string to_string(RequestFormat format) {
  for (const auto& n : kNames) {
    if (format == n.format) return n.name;
  }
  return "?";
}

RequestFormat detect_request_format(const std::string& file) {
  if (ends_with(file, ".jsonl")) return RequestFormat::kJsonl;
  const std::string text = sharding::read_text_file(file);
  const sharding::StrictJson doc = sharding::parse_json_strict(text);
  // One object on one line is JSONL only with JSONL's own key: another lone
  // object is a list format's record without its list, and says so below.
  if (!doc.ok() && first_line_is_object(text)) return RequestFormat::kJsonl;
  if (doc.ok() && doc.value.is_object() && doc.value.contains("prompt_template")) return RequestFormat::kJsonl;
  if (!doc.ok()) throw InputError(file, doc.error_path, doc.error);
  const nlohmann::json& records = require_record_list(doc.value, file);
  if (records.empty()) return RequestFormat::kCounterFactRome;
  // The first record that tells: a broken first record is the reader's to
  // report (or skip), not a reason to give up on the file.
  for (const nlohmann::json& record : records) {
    if (const auto format = format_of_record(record)) return *format;
  }
  throw InputError(file, "",
                   "cannot tell the request format: no record has \"requested_rewrite\" (counterfact), "
                   "\"prompt\" with \"ground_truth\" or \"target_new\" (counterfact-easyedit), or \"src\" "
                   "and \"alt\" (zsre); pass the format explicitly (--request-format)");
}

ReadResult read_requests(const std::string& file, const RequestFileOptions& options) {
  RequestFormat format = options.format;
  if (format == RequestFormat::kAuto) format = detect_request_format(file);
  switch (format) {
    case RequestFormat::kCounterFactRome:
      return read_counterfact_rome(file, options.read);
    case RequestFormat::kCounterFactEasyEdit:
      return read_counterfact_easyedit(file, options.read);
    case RequestFormat::kZsre:
      return read_zsre(file, ZsreOptions{options.read, options.zsre_target});
    case RequestFormat::kJsonl:
      return read_requests_jsonl(file, options.read);
    case RequestFormat::kAuto:
      break;
  }
  throw Error("read_requests: unreachable format");
}

}  // namespace revive::data
