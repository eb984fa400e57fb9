#include "lib/edit/run/edit_prompts.h"

#include "lib/model/prompt_tokens.h"
#include "lib/model/tokenizer.h"
#include "sharding/errors.h"

namespace revive::edit {

SubjectPrompt encode_subject_prompt(const model::Tokenizer& tokenizer, const std::string& context,
                                    const std::string& prompt_template, const std::string& subject,
                                    FactToken fact_token) {
  if (data::count_slots(context) != 1) {
    throw Error("context template '" + context + "' must hold exactly one \"{}\"");
  }
  const std::string full = data::render_prompt(context, prompt_template);
  if (data::count_slots(full) != 1) {
    throw Error("prompt template '" + prompt_template + "' must hold exactly one \"{}\"");
  }
  const size_t offset = full.find(data::kSubjectSlot);
  SubjectPrompt p;
  p.text = data::render_prompt(full, subject);
  p.ids = tokenizer.encode(p.text, /*add_special=*/true);
  p.subject_pos = model::subject_last_token(tokenizer, p.text, offset, subject.size());
  if (p.subject_pos >= static_cast<int64_t>(p.ids.size())) {
    throw Error("subject '" + subject + "' is not inside the tokens of '" + p.text + "'");
  }
  if (fact_token == FactToken::kLast) p.subject_pos = static_cast<int64_t>(p.ids.size()) - 1;
  return p;
}

FactToken parse_fact_token(const std::string& name) {
  if (name == "subject_last") return FactToken::kSubjectLast;
  if (name == "last") return FactToken::kLast;
  throw InputError("fact_token", "", "'" + name + "' is not subject_last or last");
}

const char* fact_token_name(FactToken fact_token) {
  return fact_token == FactToken::kLast ? "last" : "subject_last";
}

SubjectPrompt encode_subject_prompt(const model::Tokenizer& tokenizer, const data::EditRequest& request) {
  return encode_subject_prompt(tokenizer, data::kSubjectSlot, request.prompt_template, request.subject);
}

}  // namespace revive::edit
