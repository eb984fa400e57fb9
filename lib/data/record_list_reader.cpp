#include "lib/data/record_list_reader.h"

#include "lib/data/json_fields.h"

namespace revive::data {

ReadResult read_record_list(const std::string& file, const ReadOptions& options, const RecordParser& parse,
                            const RecordSink::FieldMap& schema_field) {
  const nlohmann::json doc = load_json_file(file);
  const nlohmann::json& records = require_record_list(doc, file);
  RecordSink sink(file, options);
  for (std::size_t i = 0; i < records.size(); ++i) {
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
