#include "lib/data/request_files.h"

#include "lib/data/counterfact_easyedit.h"
#include "lib/data/counterfact_rome.h"
#include "lib/data/json_fields.h"
#include "lib/data/request_jsonl.h"
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
  const nlohmann::json doc = load_json_file(file);
  const nlohmann::json& records = require_record_list(doc, file);
  if (records.empty()) return RequestFormat::kCounterFactRome;
  const nlohmann::json& first = records[0];
  if (first.is_object()) {
    if (first.contains("requested_rewrite")) return RequestFormat::kCounterFactRome;
    if (first.contains("src") && first.contains("alt")) return RequestFormat::kZsre;
    if (first.contains("prompt") && first.contains("ground_truth")) {
      return RequestFormat::kCounterFactEasyEdit;
    }
  }
  throw InputError(file, "[0]",
                   "cannot tell the request format from the first record; pass it explicitly");
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
