#pragma once
// CounterFact in the flat EasyEdit/MEND schema: a JSON list of
//   {"case_id": 7, "prompt": "The first language of Jan Kowal is",
//    "subject": "Jan Kowal", "target_new": "Dutch", "ground_truth": "Polish",
//    "rephrase_prompt": "...", "locality_prompt": "...", "locality_ground_truth": "Polish"}
// The prompt is already filled: it becomes a template at the subject's LAST
// occurrence (template_from_filled); a prompt without the subject is a bad record.
// prompt, subject, target_new and ground_truth are required; case_id, rephrase_prompt
// (-> paraphrase_prompts[0]), locality_prompt (-> neighborhood_prompts[0]) and
// locality_ground_truth (-> neighborhood_target) are optional.
#include <string>

#include "lib/data/read_options.h"

namespace revive::data {

struct RecordList;  // json_fields.h

ReadResult read_counterfact_easyedit(const std::string& file, const ReadOptions& options = {});
// The same, from a file already parsed (read_requests parses a file once).
ReadResult read_counterfact_easyedit(const RecordList& list, const ReadOptions& options = {});

}  // namespace revive::data
