#pragma once
// The loop every JSON-list reader shares: load the file, parse each record
// (a parser throws RecordError naming the field), validate it and apply the
// reader's error policy (reject or skip, limit).
#include <nlohmann/json.hpp>

#include <functional>
#include <string>

#include "lib/data/json_fields.h"
#include "lib/data/read_options.h"

namespace revive::data {

using RecordParser = std::function<EditRequest(const nlohmann::json& record, std::size_t index)>;

ReadResult read_record_list(const RecordList& list, const ReadOptions& options, const RecordParser& parse,
                            const RecordSink::FieldMap& schema_field);

}  // namespace revive::data
