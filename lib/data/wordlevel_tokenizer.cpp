#include "lib/data/wordlevel_tokenizer.h"

#include <nlohmann/json.hpp>

#include <unordered_set>

#include "sharding/errors.h"

namespace revive::data {

using nlohmann::json;
using ordered = nlohmann::ordered_json;  // keeps the vocab in id order, as HF writes it

namespace {
const std::vector<std::string>& specials() {
  static const std::vector<std::string> kSpecials = {kUnkToken, kBosToken, kEosToken, kPadToken};
  return kSpecials;
}
}  // namespace

std::string wordlevel_tokenizer_json(const std::vector<std::string>& words) {
  ordered vocab = ordered::object();
  ordered added = ordered::array();
  std::unordered_set<std::string> seen;
  int64_t id = 0;
  for (const std::string& s : specials()) {
    seen.insert(s);
    added.push_back({{"id", id},
                     {"content", s},
                     {"single_word", false},
                     {"lstrip", false},
                     {"rstrip", false},
                     {"normalized", false},
                     {"special", true}});
    vocab[s] = id++;
  }
  for (const std::string& w : words) {
    REVIVE_CHECK(!w.empty(), "WordLevel vocabulary: empty word");
    REVIVE_CHECK(w.find_first_of(" \t\r\n\f\v") == std::string::npos,
                 "WordLevel vocabulary: word \"" + w + "\" contains whitespace");
    REVIVE_CHECK(seen.insert(w).second, "WordLevel vocabulary: \"" + w + "\" repeats or is special");
    vocab[w] = id++;
  }
  const int64_t bos = 1;
  ordered tok = ordered::object();
  tok["version"] = "1.0";
  tok["truncation"] = nullptr;
  tok["padding"] = nullptr;
  tok["added_tokens"] = std::move(added);
  tok["normalizer"] = nullptr;
  tok["pre_tokenizer"] = {{"type", "WhitespaceSplit"}};
  tok["post_processor"] = {
      {"type", "TemplateProcessing"},
      {"single",
       {{{"SpecialToken", {{"id", kBosToken}, {"type_id", 0}}}},
        {{"Sequence", {{"id", "A"}, {"type_id", 0}}}}}},
      {"pair",
       {{{"SpecialToken", {{"id", kBosToken}, {"type_id", 0}}}},
        {{"Sequence", {{"id", "A"}, {"type_id", 0}}}},
        {{"SpecialToken", {{"id", kBosToken}, {"type_id", 1}}}},
        {{"Sequence", {{"id", "B"}, {"type_id", 1}}}}}},
      {"special_tokens",
       {{kBosToken, {{"id", kBosToken}, {"ids", ordered::array({bos})}, {"tokens", ordered::array({kBosToken})}}}}}};
  tok["decoder"] = nullptr;
  tok["model"] = {{"type", "WordLevel"}, {"vocab", std::move(vocab)}, {"unk_token", kUnkToken}};
  return tok.dump(2) + "\n";
}

std::string wordlevel_tokenizer_config_json() {
  ordered cfg = ordered::object();
  cfg["tokenizer_class"] = "PreTrainedTokenizerFast";
  cfg["bos_token"] = kBosToken;
  cfg["eos_token"] = kEosToken;
  cfg["unk_token"] = kUnkToken;
  cfg["pad_token"] = kPadToken;
  cfg["add_bos_token"] = true;
  cfg["add_eos_token"] = false;
  cfg["clean_up_tokenization_spaces"] = false;
  return cfg.dump(2) + "\n";
}

}  // namespace revive::data
