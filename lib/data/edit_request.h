#pragma once
// One knowledge-edit request, in the shape every reader produces and every editor
// consumes: "rewrite <subject>'s answer to <prompt> from target_true to target_new".
//
// The prompt is a ROME-style template holding exactly one "{}" where the subject
// goes ("{} plays the" + subject "Jane Roe"). Schemas that store the prompt
// already filled in (EasyEdit CounterFact, zsRE) are converted with
// template_from_filled(), which puts the "{}" at the subject's LAST occurrence:
// editors read the key at the subject's last token, and for a causal model the
// mention nearest the predicted position is the one the answer is recalled from.
// Earlier occurrences stay in the template as literal text.
//
// Strings are kept verbatim (no trimming, no leading space added to targets): how
// a target is joined to its prompt is the tokenizer-aware caller's business.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace revive::data {

// The placeholder for the subject in a prompt template.
inline constexpr const char* kSubjectSlot = "{}";

struct EditRequest {
  std::string prompt_template;  // exactly one "{}"
  std::string subject;
  std::string target_new;       // never blank
  std::string target_true;      // may be empty where the source has no true answer
  std::vector<std::string> paraphrase_prompts;    // filled prompts, answer target_new after the edit
  std::vector<std::string> neighborhood_prompts;  // other subjects, must keep their answer
  // Expected answer of the neighbourhood prompts when it is not target_true
  // (zsRE: loc_ans; EasyEdit CounterFact: locality_ground_truth). Empty: target_true.
  std::string neighborhood_target;
  std::vector<std::string> attribute_prompts;   // ROME: other subjects whose answer is target_new
  std::vector<std::string> generation_prompts;  // for fluency (n-gram entropy of generations)
  std::string relation_id;                      // e.g. "P27"; empty when unknown
  std::optional<int64_t> case_id;

  // The template with the subject filled in.
  std::string prompt() const;
  // Expected answer of the neighbourhood prompts (neighborhood_target or target_true).
  const std::string& neighborhood_answer() const;

  bool operator==(const EditRequest& other) const;
  bool operator!=(const EditRequest& other) const { return !(*this == other); }
};

// A problem with one field of one request: `field` is the request's field name
// ("prompt_template", "subject", "target_new", "paraphrase_prompts[1]", ...).
struct FieldProblem {
  std::string field;
  std::string what;
};

// Every rule a request must satisfy, checked in a fixed order; the first violation
// or nothing. Rules: the template has exactly one "{}"; the subject is not blank
// and holds no "{}"; target_new is not blank; no prompt in the lists is blank.
std::optional<FieldProblem> validate(const EditRequest& request);

// Replaces the single "{}" of `prompt_template` by `subject`. Throws revive::Error
// when the template does not hold exactly one "{}".
std::string render_prompt(const std::string& prompt_template, const std::string& subject);

// Number of non-overlapping "{}" in `text`.
std::size_t count_slots(const std::string& text);

// Template of a filled prompt: the LAST occurrence of `subject` becomes "{}".
// Returns the problem instead when the subject is blank or absent, or when the
// prompt already holds a literal "{}" (the template would be ambiguous).
struct TemplateResult {
  std::string prompt_template;
  std::optional<FieldProblem> problem;  // field "prompt" or "subject"
};
TemplateResult template_from_filled(const std::string& prompt, const std::string& subject);

// True when `text` is empty or only whitespace: ASCII and Unicode White_Space
// (U+00A0, U+2003, U+3000, ...), plus U+200B and U+FEFF, which render as
// nothing. `text` is UTF-8; a malformed byte is not blank.
bool is_blank(const std::string& text);

}  // namespace revive::data
