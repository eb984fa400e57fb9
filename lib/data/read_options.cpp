#include "lib/data/read_options.h"

#include "sharding/errors.h"

namespace revive::data {

std::string RecordDiagnostic::to_string() const {
  return file + ": record " + std::to_string(index) + ": " + field + ": " + what;
}

RecordSink::RecordSink(std::string file, const ReadOptions& options)
    : file_(std::move(file)), options_(options) {}

void RecordSink::fail(std::size_t index, const std::string& field, const std::string& what) {
  if (options_.on_error == OnError::kReject) {
    throw InputError(file_, "[" + std::to_string(index) + "]." + field, what);
  }
  result_.skipped.push_back(RecordDiagnostic{file_, index, field, what});
}

bool RecordSink::accept(std::size_t index, EditRequest request, const FieldMap& schema_field) {
  if (auto problem = validate(request)) {
    fail(index, schema_field(problem->field), problem->what);
    return !full();
  }
  if (request.case_id) {
    const auto [it, fresh] = case_id_index_.emplace(*request.case_id, index);
    if (!fresh) {
      fail(index, schema_field("case_id"),
           "duplicate case_id " + std::to_string(*request.case_id) + " (first at record " +
               std::to_string(it->second) + ")");
      return !full();
    }
  }
  result_.requests.push_back(std::move(request));
  return !full();
}

bool RecordSink::full() const {
  return options_.limit != 0 && result_.requests.size() >= options_.limit;
}

}  // namespace revive::data
