#include "lib/model/tokenizer/added_tokens.h"

#include <algorithm>
#include <cctype>

#include "lib/model/tokenizer/json_node.h"
#include "lib/model/tokenizer/normalizer.h"
#include "lib/model/tokenizer/vocab.h"

namespace revive::model::tokenizer {

namespace {

bool is_added_token_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}
// Word characters for single_word; bytes of multi-byte characters count as
// word characters (letters in practice).
bool is_added_token_word_char(char c) {
  auto u = static_cast<unsigned char>(c);
  return u >= 0x80 || std::isalnum(u) || c == '_';
}

}  // namespace

AddedVocabulary::AddedVocabulary(const JsonNode& list, const Normalizer* normalizer) {
  if (list.is_null()) return;
  if (!list.is_array()) list.fail("expected an array of added tokens");
  for (size_t i = 0; i < list.size(); ++i) {
    JsonNode t = list.index(i);
    AddedToken a;
    a.id = t.require("id").integer();
    if (a.id < 0 || a.id > kMaxTokenId) t.at("id").fail("token id out of range");
    a.content = t.require("content").str();
    if (a.content.empty()) t.at("content").fail("empty added token");
    a.single_word = t.bool_or("single_word", false);
    a.lstrip = t.bool_or("lstrip", false);
    a.rstrip = t.bool_or("rstrip", false);
    a.special = t.bool_or("special", false);
    a.normalized = t.bool_or("normalized", !a.special);
    by_content_[a.content] = a.id;
    by_id_[a.id] = tokens_.size();
    tokens_.push_back(a);
  }
  for (Matcher* m : {&raw_, &normalized_}) m->forms.resize(tokens_.size());
  for (size_t i = 0; i < tokens_.size(); ++i) {
    const AddedToken& a = tokens_[i];
    Matcher& m = a.normalized ? normalized_ : raw_;
    std::string form = a.normalized && normalizer ? normalizer->normalize(a.content) : a.content;
    if (form.empty()) continue;
    m.forms[i] = form;
    m.by_first_byte[static_cast<unsigned char>(form[0])].push_back(i);
  }
  for (Matcher* m : {&raw_, &normalized_}) {
    for (auto& bucket : m->by_first_byte) {
      std::stable_sort(bucket.begin(), bucket.end(), [&](size_t x, size_t y) {
        return m->forms[x].size() > m->forms[y].size();
      });
    }
  }
}

std::vector<Segment> AddedVocabulary::split(const std::string& text, bool normalized_pass) const {
  return split_with(text, normalized_pass ? normalized_ : raw_);
}

std::vector<Segment> AddedVocabulary::split_with(const std::string& text, const Matcher& m) const {
  std::vector<Segment> out;
  size_t emitted = 0;  // text before this offset is already in `out`
  size_t pos = 0;
  while (pos < text.size()) {
    const AddedToken* hit = nullptr;
    size_t hit_len = 0;
    for (size_t i : m.by_first_byte[static_cast<unsigned char>(text[pos])]) {
      const std::string& form = m.forms[i];
      if (text.compare(pos, form.size(), form) == 0) {
        hit = &tokens_[i];
        hit_len = form.size();
        break;  // longest first
      }
    }
    if (hit != nullptr && hit->single_word) {
      bool left_ok = pos == 0 || !is_added_token_word_char(text[pos - 1]);
      bool right_ok = pos + hit_len == text.size() || !is_added_token_word_char(text[pos + hit_len]);
      if (!left_ok || !right_ok) hit = nullptr;
    }
    if (hit == nullptr) {
      ++pos;
      continue;
    }
    size_t start = pos, stop = pos + hit_len;
    if (hit->lstrip) {
      while (start > emitted && is_added_token_space(text[start - 1])) --start;
    }
    if (hit->rstrip) {
      while (stop < text.size() && is_added_token_space(text[stop])) ++stop;
    }
    if (start > emitted) out.push_back({text.substr(emitted, start - emitted), std::nullopt});
    out.push_back({text.substr(start, stop - start), hit->id});
    emitted = pos = stop;
  }
  if (emitted < text.size()) out.push_back({text.substr(emitted), std::nullopt});
  return out;
}

std::optional<int64_t> AddedVocabulary::id(const std::string& content) const {
  auto it = by_content_.find(content);
  if (it == by_content_.end()) return std::nullopt;
  return it->second;
}

const AddedToken* AddedVocabulary::token(int64_t id) const {
  auto it = by_id_.find(id);
  return it == by_id_.end() ? nullptr : &tokens_[it->second];
}

}  // namespace revive::model::tokenizer
