#include "lib/data/edit_request.h"

#include "sharding/errors.h"
#include "sharding/utf8.h"

namespace revive::data {

namespace {

// Unicode White_Space, plus the zero-width space and the BOM / zero-width
// no-break space: a target made of them is still nothing to a tokenizer.
bool is_blank_code_point(char32_t cp) {
  switch (cp) {
    case ' ': case '\t': case '\n': case '\v': case '\f': case '\r':
    case 0x85: case 0xA0: case 0x1680: case 0x2028: case 0x2029: case 0x202F: case 0x205F:
    case 0x3000: case 0xFEFF:
      return true;
    default:
      return cp >= 0x2000 && cp <= 0x200B;
  }
}

}  // namespace

bool is_blank(const std::string& text) {
  for (std::size_t pos = 0, len = 0; pos < text.size(); pos += len) {
    char32_t cp = 0;
    // A malformed or overlong sequence is not a space (an overlong space must not pass for one).
    if (!sharding::utf8_decode(text, pos, &cp, &len) || !is_blank_code_point(cp)) return false;
  }
  return true;
}

std::size_t count_slots(const std::string& text) {
  std::size_t n = 0;
  for (std::size_t pos = text.find(kSubjectSlot); pos != std::string::npos;
       pos = text.find(kSubjectSlot, pos + 2)) {
    ++n;
  }
  return n;
}

std::string render_prompt(const std::string& prompt_template, const std::string& subject) {
  const std::size_t slots = count_slots(prompt_template);
  if (slots != 1) {
    throw Error("prompt template \"" + prompt_template + "\" has " + std::to_string(slots) +
                " \"{}\" slots; exactly one is required");
  }
  std::string out = prompt_template;
  out.replace(out.find(kSubjectSlot), 2, subject);
  return out;
}

std::string EditRequest::prompt() const { return render_prompt(prompt_template, subject); }

const std::string& EditRequest::neighborhood_answer() const {
  return neighborhood_target.empty() ? target_true : neighborhood_target;
}

bool EditRequest::operator==(const EditRequest& o) const {
  return prompt_template == o.prompt_template && subject == o.subject &&
         target_new == o.target_new && target_true == o.target_true &&
         paraphrase_prompts == o.paraphrase_prompts &&
         neighborhood_prompts == o.neighborhood_prompts &&
         neighborhood_target == o.neighborhood_target &&
         attribute_prompts == o.attribute_prompts && generation_prompts == o.generation_prompts &&
         relation_id == o.relation_id && case_id == o.case_id;
}

namespace {
std::optional<FieldProblem> check_list(const std::vector<std::string>& prompts,
                                       const std::string& name) {
  for (std::size_t i = 0; i < prompts.size(); ++i) {
    if (is_blank(prompts[i])) {
      return FieldProblem{name + "[" + std::to_string(i) + "]", "prompt is blank"};
    }
  }
  return std::nullopt;
}
}  // namespace

std::optional<FieldProblem> validate(const EditRequest& r) {
  const std::size_t slots = count_slots(r.prompt_template);
  if (slots != 1) {
    return FieldProblem{"prompt_template", "has " + std::to_string(slots) +
                                               " \"{}\" subject slots; exactly one is required"};
  }
  if (is_blank(r.subject)) return FieldProblem{"subject", "is blank"};
  if (count_slots(r.subject) != 0) return FieldProblem{"subject", "contains \"{}\""};
  if (is_blank(r.target_new)) return FieldProblem{"target_new", "is blank"};
  if (auto p = check_list(r.paraphrase_prompts, "paraphrase_prompts")) return p;
  if (auto p = check_list(r.neighborhood_prompts, "neighborhood_prompts")) return p;
  if (auto p = check_list(r.attribute_prompts, "attribute_prompts")) return p;
  if (auto p = check_list(r.generation_prompts, "generation_prompts")) return p;
  return std::nullopt;
}

TemplateResult template_from_filled(const std::string& prompt, const std::string& subject) {
  TemplateResult out;
  if (is_blank(subject)) {
    out.problem = FieldProblem{"subject", "is blank"};
    return out;
  }
  if (count_slots(prompt) != 0) {
    out.problem = FieldProblem{"prompt", "already contains a literal \"{}\"; cannot template it"};
    return out;
  }
  const std::size_t pos = prompt.rfind(subject);
  if (pos == std::string::npos) {
    out.problem = FieldProblem{"prompt", "does not contain the subject \"" + subject + "\""};
    return out;
  }
  out.prompt_template = prompt;
  out.prompt_template.replace(pos, subject.size(), kSubjectSlot);
  // Braces next to the subject could form a second slot or move the first one.
  if (count_slots(out.prompt_template) != 1 ||
      render_prompt(out.prompt_template, subject) != prompt) {
    out.problem = FieldProblem{"prompt", "braces around the subject make the template ambiguous"};
    out.prompt_template.clear();
  }
  return out;
}

}  // namespace revive::data
