#include "lib/data/record_list_reader.h"

#include "lib/data/json_fields.h"

namespace revive::data {

ReadResult read_record_list(const RecordList& list, const ReadOptions& options, const RecordParser& parse,
                            const RecordSink::FieldMap& schema_field) {
  const nlohmann::json& records = list.records;
  RecordSink sink(list.file, options);
  for (std::size_t i = 0; i < records.size(); ++i) {
    if (const auto problem = list.problems.find(i); problem != list.problems.end()) {
      sink.fail(i, problem->second.field, problem->second.what);
      continue;
    }
    EditRequest request;
    try {
      request = parse(records[i], i);
    } catch (const RecordError& e) {
      sink.fail(i, e.field, e.what);
      continue;
    }
    if (!sink.accept(i, std::move(request), schema_field)) break;
  }
  return sink.take();
}

}  // namespace revive::data
