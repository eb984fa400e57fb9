#pragma once
// JSON parsing for input files, stricter than nlohmann's default: a duplicate
// key is an error (nlohmann keeps the last one silently, so a second "subject"
// or a second tensor entry would win unseen), and nesting may be bounded.
// Errors are returned, not thrown, so each caller reports them in its own
// terms (a file-level InputError, or one bad record of a JSONL file).
#include <nlohmann/json.hpp>

#include <string>
#include <string_view>

namespace revive::sharding {

struct StrictJson {
  nlohmann::json value;    // null when error is set
  std::string error;       // empty on success
  std::string error_path;  // JSON path of the problem ("[3].requested_rewrite.subject"); "" for the whole text
  bool ok() const { return error.empty(); }
};

// Parses `text` as one JSON document. Syntax errors and numbers that overflow a
// double keep nlohmann's message ("not valid JSON: [json.exception...] ...").
// max_depth > 0 refuses more than that many nested objects and arrays.
StrictJson parse_json_strict(std::string_view text, int max_depth = 0);

}  // namespace revive::sharding
