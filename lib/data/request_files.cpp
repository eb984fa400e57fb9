#include "lib/data/request_files.h"

#include <algorithm>
#include <optional>

#include "lib/data/counterfact_easyedit.h"
#include "lib/data/counterfact_rome.h"
#include "lib/data/json_fields.h"
#include "lib/data/request_jsonl.h"
#include "lib/data/zsre.h"
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

// What auto detection learns from a file: its format and, for a JSON list, the
// parsed list, so that the reader does not parse the file again.
struct DetectedFile {
  RequestFormat format = RequestFormat::kAuto;
  std::optional<RecordList> list;
};

DetectedFile detect(const std::string& file) {
  if (ends_with(file, ".jsonl")) return {RequestFormat::kJsonl, std::nullopt};
  const std::string text = sharding::read_text_file(file);
  sharding::StrictJson doc = sharding::parse_json_strict(text, 0, /*isolate_list_elements=*/true);
  // One object on one line is JSONL only with JSONL's own key: another lone
  // object is a list format's record without its list, and says so below.
  if (!doc.ok() && first_line_is_object(text)) return {RequestFormat::kJsonl, std::nullopt};
  if (doc.ok() && doc.value.is_object() && doc.value.contains("prompt_template")) {
    return {RequestFormat::kJsonl, std::nullopt};
  }
  DetectedFile out;
  out.list = to_record_list(std::move(doc), file);
  const nlohmann::json& records = out.list->records;
  // An empty list reads as no requests in any list format.
  if (records.empty()) out.format = RequestFormat::kCounterFactRome;
  // The first record that tells: a broken first record is the reader's to
  // report (or skip), not a reason to give up on the file.
  for (std::size_t i = 0; i < records.size() && out.format == RequestFormat::kAuto; ++i) {
    if (const auto format = format_of_record(records[i])) out.format = *format;
  }
  if (out.format == RequestFormat::kAuto) {
    throw InputError(file, "",
                     "cannot tell the request format: no record has \"requested_rewrite\" (counterfact), "
                     "\"prompt\" with \"ground_truth\" or \"target_new\" (counterfact-easyedit), or \"src\" "
                     "and \"alt\" (zsre); pass the format explicitly (--request-format)");
  }
  return out;
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

RequestFormat detect_request_format(const std::string& file) { return detect(file).format; }

ReadResult read_requests(const std::string& file, const RequestFileOptions& options, RequestFormat* format_read) {
  DetectedFile detected;
  detected.format = options.format;
  if (detected.format == RequestFormat::kAuto) detected = detect(file);
  const RequestFormat format = detected.format;
  if (format_read != nullptr) *format_read = format;
  if (format != RequestFormat::kJsonl && !detected.list) detected.list = load_record_list(file);
  switch (format) {
    case RequestFormat::kCounterFactRome:
      return read_counterfact_rome(*detected.list, options.read);
    case RequestFormat::kCounterFactEasyEdit:
      return read_counterfact_easyedit(*detected.list, options.read);
    case RequestFormat::kZsre:
      return read_zsre(*detected.list, ZsreOptions{options.read, options.zsre_target});
    case RequestFormat::kJsonl:
      return read_requests_jsonl(file, options.read);
    case RequestFormat::kAuto:
      break;
  }
  throw Error("read_requests: unreachable format");
}

}  // namespace revive::data
