#pragma once
// REVIVE's own request file: JSON Lines, one request per line, with EditRequest's
// field names:
//   {"case_id": 7, "prompt_template": "{} plays the", "subject": "Jane Roe",
//    "target_new": "violin", "target_true": "drums", "relation_id": "P1303",
//    "paraphrase_prompts": [...], "neighborhood_prompts": [...],
//    "neighborhood_target": "", "attribute_prompts": [...], "generation_prompts": [...]}
// prompt_template, subject and target_new are required, the rest optional. An
// unknown key is a bad record (a misspelt field would otherwise vanish silently).
// Blank lines are ignored; a record's index is its 0-based line number.
#include <string>
#include <vector>

#include "lib/data/read_options.h"

namespace revive::data {

ReadResult read_requests_jsonl(const std::string& file, const ReadOptions& options = {});

// Writes every field (empty ones included), one line per request; atomic.
void write_requests_jsonl(const std::string& file, const std::vector<EditRequest>& requests);

}  // namespace revive::data
