#pragma once
// Token-level views of an edit request for the model-side steps of editing:
// where the subject's last token sits (the key position and the position the
// value delta is added at) and which tokens form the target.
//
// A "context" is a template with one "{}" that the request's own template is
// placed into (MEMIT's context templates: "{}" itself, or "<generated text>. {}").
#include <cstdint>
#include <string>
#include <vector>

#include "lib/data/edit_request.h"
#include "lib/model/model_fwd.h"

namespace revive::edit {

// Where a request's key is read and its value delta added (ROME/MEMIT's
// fact_token): the subject's last token (MEMIT's published setting), or the
// prompt's last token (ROME's "last"; for models that recall facts at the
// predicted position rather than at the subject, e.g. tiny toy models).
enum class FactToken { kSubjectLast, kLast };
FactToken parse_fact_token(const std::string& name);  // "subject_last" | "last"
const char* fact_token_name(FactToken fact_token);    // parse_fact_token's inverse

struct SubjectPrompt {
  std::string text;              // the filled prompt
  std::vector<int64_t> ids;      // encode(text) with BOS
  int64_t subject_pos = 0;       // index in ids of the fact token (the subject's last by default)
};

// `context` with "{}" replaced by `prompt_template`, then the template's "{}" by
// `subject`; encoded with the subject's last token located. Throws revive::Error
// naming the context or template when either does not hold exactly one "{}".
SubjectPrompt encode_subject_prompt(const model::Tokenizer& tokenizer, const std::string& context,
                                    const std::string& prompt_template, const std::string& subject,
                                    FactToken fact_token = FactToken::kSubjectLast);

// The request's own prompt (context "{}").
SubjectPrompt encode_subject_prompt(const model::Tokenizer& tokenizer, const data::EditRequest& request);

}  // namespace revive::edit
