#pragma once
// JSON parsing for input files, stricter than nlohmann's default: a duplicate
// key is an error (nlohmann keeps the last one silently, so a second "subject"
// or a second tensor entry would win unseen), and nesting may be bounded.
// Errors are returned, not thrown, so each caller reports them in its own
// terms (a file-level InputError, or one bad record of a JSONL file).
#include <nlohmann/json.hpp>

#include <cstddef>
#include <map>
#include <string>
#include <string_view>

namespace revive::sharding {

// A problem inside one element of a top-level list.
struct JsonElementProblem {
  std::string path;  // inside the element ("requested_rewrite.subject")
  std::string what;
};

struct StrictJson {
  nlohmann::json value;    // null when error is set
  std::string error;       // empty on success
  std::string error_path;  // JSON path of the problem ("[3].requested_rewrite.subject"); "" for the whole text
  // With isolate_list_elements: the first duplicate key inside each element of
  // a top-level list, by element index (those elements hold the last value).
  std::map<std::size_t, JsonElementProblem> element_problems;
  bool ok() const { return error.empty(); }
};

// Parses `text` as one JSON document. Syntax errors and numbers that overflow a
// double keep nlohmann's message ("not valid JSON: [json.exception...] ...").
// max_depth > 0 refuses more than that many nested objects and arrays.
// isolate_list_elements: a duplicate key inside an element of a top-level list
// marks that element (element_problems) instead of failing the document, so a
// reader can reject or skip that record alone.
StrictJson parse_json_strict(std::string_view text, int max_depth = 0, bool isolate_list_elements = false);

}  // namespace revive::sharding
