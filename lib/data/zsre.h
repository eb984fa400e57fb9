#pragma once
// zsRE in the MEND/EasyEdit schema: a JSON list of
//   {"subject": "Acme Mills", "src": "What does Acme Mills make?",
//    "alt": "bicycles", "answers": ["paper"], "rephrase": "...",
//    "loc": "nq question: ...", "loc_ans": "Ann Smith", "pred": ..., "cond": ...}
// The question `src` becomes a template at the subject's LAST occurrence. rephrase
// -> paraphrase_prompts[0], loc -> neighborhood_prompts[0] (verbatim, with its
// "nq question: " prefix), loc_ans -> neighborhood_target. case_id is the record's
// index in the file (as MEMIT's MENDQADataset numbers them). pred, cond and
// portability are ignored.
//
// Which answer is the edit target differs between codebases, so it is an option:
//   kAlt (default, EasyEdit): target_new = alt, target_true = answers[0].
//   kFirstAnswer (ROME/MEMIT's dsets/zsre.py): target_new = answers[0], target_true empty.
// Strings are kept verbatim: some `alt` values carry a leading or trailing space
// and a few are empty; an empty target is a bad record.
#include <string>

#include "lib/data/read_options.h"

namespace revive::data {

enum class ZsreTarget { kAlt, kFirstAnswer };

struct ZsreOptions {
  ReadOptions read;
  ZsreTarget target = ZsreTarget::kAlt;
};

struct RecordList;  // json_fields.h

ReadResult read_zsre(const std::string& file, const ZsreOptions& options = {});
// The same, from a file already parsed (read_requests parses a file once).
ReadResult read_zsre(const RecordList& list, const ZsreOptions& options = {});

}  // namespace revive::data
