#pragma once
// What a request reader does with a bad record, and what it reports.
//
// Every reader checks each record (shape, types, EditRequest rules of validate())
// and, on a bad one, either throws revive::InputError naming the file, the record
// index and the field (kReject, the default) or leaves the record out and records
// a RecordDiagnostic (kSkip). A record is never repaired. A file that cannot be
// read or parsed as a whole is always an InputError.
#include <cstddef>
#include <cstdint>
#include <functional>
#include <unordered_map>
#include <string>
#include <vector>

#include "lib/data/edit_request.h"

namespace revive::data {

enum class OnError { kReject, kSkip };

struct ReadOptions {
  OnError on_error = OnError::kReject;
  // Keep at most this many valid requests (0: all); reading stops there.
  std::size_t limit = 0;
};

// One skipped record: 0-based index in the file (the line number for JSONL is
// index + 1), the field as a JSON path inside the record ("requested_rewrite.subject").
struct RecordDiagnostic {
  std::string file;
  std::size_t index = 0;
  std::string field;
  std::string what;
  std::string to_string() const;
};

struct ReadResult {
  std::vector<EditRequest> requests;
  std::vector<RecordDiagnostic> skipped;
};

// Applies the policy for one reader: the first argument of InputError is the file,
// the second "[<index>].<field>", the third the problem.
class RecordSink {
 public:
  RecordSink(std::string file, const ReadOptions& options);

  // Maps a field name of EditRequest ("target_new", "paraphrase_prompts[0]") to the
  // schema's JSON path ("requested_rewrite.target_new.str").
  using FieldMap = std::function<std::string(const std::string&)>;

  // Validates `request` (validate(), plus: a case_id seen before in this file is a
  // problem) and keeps it, or reports the problem under the schema's field name.
  // Returns false once the limit is reached (stop reading).
  bool accept(std::size_t index, EditRequest request, const FieldMap& schema_field);
  // A problem found while parsing record `index`: throws or records it.
  void fail(std::size_t index, const std::string& field, const std::string& what);
  bool full() const;

  const std::string& file() const { return file_; }
  ReadResult take() { return std::move(result_); }

 private:
  std::string file_;
  ReadOptions options_;
  ReadResult result_;
  std::unordered_map<int64_t, std::size_t> case_id_index_;  // case_id -> record index
};

}  // namespace revive::data
