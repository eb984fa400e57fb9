#pragma once
// Typed access to the fields of one JSON record, for the request readers. A
// missing or mistyped field throws RecordError with its JSON path inside the
// record; the reader turns that into an InputError or a diagnostic (read_options.h).
#include <nlohmann/json.hpp>

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "sharding/checkpoint/strict_json.h"

namespace revive::data {

struct RecordError {
  std::string field;
  std::string what;
};

// The record itself must be an object.
void require_object(const nlohmann::json& value, const std::string& path);
// `path` is the JSON path of `object` inside the record ("" at the top level).
const nlohmann::json& require_field(const nlohmann::json& object, const std::string& key,
                                    const std::string& path = "");
std::string string_field(const nlohmann::json& object, const std::string& key,
                         const std::string& path = "");
// Absent or null: nullopt; present: must be a string.
std::optional<std::string> optional_string_field(const nlohmann::json& object,
                                                 const std::string& key,
                                                 const std::string& path = "");
// A list of strings; absent or null gives an empty list when `optional`.
std::vector<std::string> string_list_field(const nlohmann::json& object, const std::string& key,
                                           bool optional, const std::string& path = "");
// An integer (not a float, not a string) that fits in int64; absent or null: nullopt.
std::optional<int64_t> optional_int_field(const nlohmann::json& object, const std::string& key,
                                          const std::string& path = "");

// Joins a path and a key: join_path("requested_rewrite", "subject").
std::string join_path(const std::string& path, const std::string& key);

// Parses a whole JSON file; an unreadable file, bad JSON (a number too large
// for a double included) or a duplicate key is an InputError naming the file
// and, for a duplicate, its JSON path ("[3].requested_rewrite.subject").
nlohmann::json load_json_file(const std::string& file);
// The file's top level must be a list of records.
const nlohmann::json& require_record_list(const nlohmann::json& doc, const std::string& file);

// A JSON list of records, parsed once: a duplicate key inside a record is that
// record's problem (the reader rejects or skips it), not the whole file's.
struct RecordList {
  std::string file;
  nlohmann::json records;                      // a JSON array
  std::map<std::size_t, RecordError> problems;  // by record index; field inside the record
};
// `parsed` is `file` parsed with isolate_list_elements; a parse error, or
// anything but a list of records, is an InputError naming the file.
RecordList to_record_list(sharding::StrictJson parsed, const std::string& file);
RecordList load_record_list(const std::string& file);

}  // namespace revive::data
