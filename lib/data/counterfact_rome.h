#pragma once
// CounterFact in the ROME schema (kmeng01/rome `counterfact.json`): a JSON list of
//   {"case_id": 0, "pararel_idx": ..., "requested_rewrite": {"prompt": "{} plays the",
//    "relation_id": "P1303", "subject": "Jane Roe", "target_new": {"str": "violin", "id": ...},
//    "target_true": {"str": "drums", "id": ...}},
//    "paraphrase_prompts": [...], "neighborhood_prompts": [...],
//    "attribute_prompts": [...], "generation_prompts": [...]}
// requested_rewrite.{prompt, subject, target_new.str, target_true.str} are required;
// case_id, relation_id and the prompt lists are optional (absent: empty). Other keys
// (pararel_idx, Wikidata ids) are ignored. The prompt must already be a template
// with exactly one "{}".
#include <string>
#include <vector>

#include "lib/data/read_options.h"

namespace revive::data {

struct RecordList;  // json_fields.h

ReadResult read_counterfact_rome(const std::string& file, const ReadOptions& options = {});
// The same, from a file already parsed (read_requests parses a file once).
ReadResult read_counterfact_rome(const RecordList& list, const ReadOptions& options = {});

// Writes `requests` in the same schema (atomic). A non-empty neighborhood_target,
// which the schema has no place for, is written as an extra top-level key
// "neighborhood_target" that read_counterfact_rome() reads back.
void write_counterfact_rome(const std::string& file, const std::vector<EditRequest>& requests);

}  // namespace revive::data
