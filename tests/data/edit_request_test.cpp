#include "lib/data/edit_request.h"

#include <gtest/gtest.h>

#include <functional>

#include "sharding/errors.h"

namespace revive::data {
namespace {

EditRequest good_request() {
  EditRequest r;
  r.prompt_template = "{} plays the";
  r.subject = "Jane Roe";
  r.target_new = "violin";
  r.target_true = "drums";
  r.paraphrase_prompts = {"Jane Roe is great at"};
  r.neighborhood_prompts = {"Sam Lee performs on the"};
  return r;
}

TEST(EditRequest, PromptRendersTheSubjectIntoTheSlot) {
  EXPECT_EQ(good_request().prompt(), "Jane Roe plays the");
  EXPECT_EQ(render_prompt("The home language of {} is", "Jan Kowal"),
            "The home language of Jan Kowal is");
  EXPECT_EQ(render_prompt("{}", "X"), "X");
}

TEST(EditRequest, RenderRejectsTemplatesWithoutExactlyOneSlot) {
  EXPECT_THROW(render_prompt("no slot", "X"), Error);
  EXPECT_THROW(render_prompt("{} and {}", "X"), Error);
}

TEST(EditRequest, CountSlots) {
  EXPECT_EQ(count_slots(""), 0u);
  EXPECT_EQ(count_slots("{}"), 1u);
  EXPECT_EQ(count_slots("{}{}"), 2u);
  EXPECT_EQ(count_slots("{{}}"), 1u);
  EXPECT_EQ(count_slots("{ }"), 0u);
}

TEST(EditRequest, NeighborhoodAnswerDefaultsToTargetTrue) {
  EditRequest r = good_request();
  EXPECT_EQ(r.neighborhood_answer(), "drums");
  r.neighborhood_target = "Ann Smith";
  EXPECT_EQ(r.neighborhood_answer(), "Ann Smith");
}

TEST(EditRequest, ValidRequestPasses) { EXPECT_FALSE(validate(good_request()).has_value()); }

TEST(EditRequest, EmptyTargetTrueIsAllowed) {
  EditRequest r = good_request();
  r.target_true.clear();
  EXPECT_FALSE(validate(r).has_value());
}

// Each broken field is reported under its own name.
TEST(EditRequest, ValidateNamesTheBrokenField) {
  struct Case {
    std::function<void(EditRequest&)> mutate;
    std::string field;
  };
  const std::vector<Case> cases = {
      {[](EditRequest& r) { r.prompt_template = "plays the"; }, "prompt_template"},
      {[](EditRequest& r) { r.prompt_template = "{} plays {}"; }, "prompt_template"},
      {[](EditRequest& r) { r.subject = ""; }, "subject"},
      {[](EditRequest& r) { r.subject = "  \t"; }, "subject"},
      {[](EditRequest& r) { r.subject = "a {} b"; }, "subject"},
      {[](EditRequest& r) { r.target_new = ""; }, "target_new"},
      {[](EditRequest& r) { r.target_new = " \n"; }, "target_new"},
      {[](EditRequest& r) { r.paraphrase_prompts.push_back(" "); }, "paraphrase_prompts[1]"},
      {[](EditRequest& r) { r.neighborhood_prompts.insert(r.neighborhood_prompts.begin(), ""); },
       "neighborhood_prompts[0]"},
      {[](EditRequest& r) { r.attribute_prompts = {""}; }, "attribute_prompts[0]"},
      {[](EditRequest& r) { r.generation_prompts = {"ok", ""}; }, "generation_prompts[1]"},
  };
  for (const Case& c : cases) {
    EditRequest r = good_request();
    c.mutate(r);
    const auto problem = validate(r);
    ASSERT_TRUE(problem.has_value()) << c.field;
    EXPECT_EQ(problem->field, c.field);
    EXPECT_FALSE(problem->what.empty());
  }
}

// Targets and subjects that render as nothing must not pass validation.
TEST(EditRequest, UnicodeWhitespaceIsBlank) {
  for (const char* blank : {"", " \t\r\n\f\v", "\u0085", "\u00a0", "\u1680", "\u2000", "\u2003", "\u200a",
                            "\u200b", "\u2028", "\u2029", "\u202f", "\u205f", "\u3000", "\ufeff",
                            " \u00a0\u3000\t\u2003"}) {
    EXPECT_TRUE(is_blank(blank)) << blank;
  }
  // Invalid UTF-8 (a lone continuation byte, a truncated or an overlong
  // sequence spelling U+00A0 or a space) is not blank.
  for (const char* text : {"x", "\u00a0x", "\u00e9", "\xa0", "\xc2", "\xe3\x80", "\xc0\xa0", "\xc1\x80",
                           "\xe0\x82\xa0", "\xf0\x80\x80\xa0", "\xff", "\u200c"}) {
    EXPECT_FALSE(is_blank(text)) << text;
  }
  EditRequest r = good_request();
  r.target_new = "\u00a0";
  ASSERT_TRUE(validate(r).has_value());
  EXPECT_EQ(validate(r)->field, "target_new");
  r = good_request();
  r.subject = "\u3000\u2003";
  ASSERT_TRUE(validate(r).has_value());
  EXPECT_EQ(validate(r)->field, "subject");
  r = good_request();
  r.target_new = "\u00a0violin";
  EXPECT_FALSE(validate(r).has_value());
}

TEST(EditRequest, TemplateFromFilledUsesTheLastOccurrence) {
  const TemplateResult t = template_from_filled("Paris is in France, said Paris", "Paris");
  ASSERT_FALSE(t.problem.has_value());
  EXPECT_EQ(t.prompt_template, "Paris is in France, said {}");
  EXPECT_EQ(render_prompt(t.prompt_template, "Paris"), "Paris is in France, said Paris");

  const TemplateResult once = template_from_filled("The home language of Jan Kowal is",
                                                   "Jan Kowal");
  ASSERT_FALSE(once.problem.has_value());
  EXPECT_EQ(once.prompt_template, "The home language of {} is");
}

TEST(EditRequest, TemplateFromFilledReportsProblems) {
  const TemplateResult absent = template_from_filled("The capital of France is", "Germany");
  ASSERT_TRUE(absent.problem.has_value());
  EXPECT_EQ(absent.problem->field, "prompt");
  EXPECT_NE(absent.problem->what.find("Germany"), std::string::npos);

  const TemplateResult blank = template_from_filled("The capital of France is", " ");
  ASSERT_TRUE(blank.problem.has_value());
  EXPECT_EQ(blank.problem->field, "subject");

  const TemplateResult literal = template_from_filled("{} France", "France");
  ASSERT_TRUE(literal.problem.has_value());
  EXPECT_EQ(literal.problem->field, "prompt");

  // Braces next to the subject do not disturb the slot.
  const TemplateResult braces = template_from_filled("x {France} y", "France");
  ASSERT_FALSE(braces.problem.has_value());
  EXPECT_EQ(braces.prompt_template, "x {{}} y");
  EXPECT_EQ(render_prompt(braces.prompt_template, "France"), "x {France} y");
}

TEST(EditRequest, EqualityComparesEveryField) {
  const EditRequest a = good_request();
  EditRequest b = a;
  EXPECT_EQ(a, b);
  b.case_id = 3;
  EXPECT_NE(a, b);
  b = a;
  b.generation_prompts = {"x"};
  EXPECT_NE(a, b);
  b = a;
  b.relation_id = "P1303";
  EXPECT_NE(a, b);
}

}  // namespace
}  // namespace revive::data
