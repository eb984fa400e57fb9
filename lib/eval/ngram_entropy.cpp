#include "lib/eval/ngram_entropy.h"

#include <cctype>
#include <cmath>
#include <map>

#include "sharding/errors.h"

namespace revive::eval {

namespace {

bool ngram_is_word_char(unsigned char c) { return std::isalnum(c) || c >= 0x80 || c == '_' || c == '-'; }

// "can't" -> "ca", "n't"; "Lily's" -> "Lily", "'s" (nltk's Treebank contractions).
void ngram_push_word(std::vector<std::string>& out, const std::string& word) {
  static const char* kSuffixes[] = {"n't", "'s", "'re", "'ve", "'ll", "'d", "'m"};
  for (const char* suffix : kSuffixes) {
    const std::string s(suffix);
    if (word.size() > s.size()) {
      std::string tail = word.substr(word.size() - s.size());
      for (char& ch : tail) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
      if (tail == s) {
        out.push_back(word.substr(0, word.size() - s.size()));
        out.push_back(word.substr(word.size() - s.size()));
        return;
      }
    }
  }
  out.push_back(word);
}

}  // namespace

std::vector<std::string> word_tokens(const std::string& text) {
  std::vector<std::string> out;
  std::string word;
  auto flush = [&] {
    if (!word.empty()) ngram_push_word(out, word);
    word.clear();
  };
  for (size_t i = 0; i < text.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(text[i]);
    if (std::isspace(c)) {
      flush();
    } else if (ngram_is_word_char(c)) {
      word.push_back(static_cast<char>(c));
    } else if (c == '\'' && !word.empty() && i + 1 < text.size() &&
               std::isalpha(static_cast<unsigned char>(text[i + 1]))) {
      word.push_back(static_cast<char>(c));  // inside a word: a contraction
    } else {
      flush();
      out.emplace_back(1, static_cast<char>(c));
    }
  }
  flush();
  return out;
}

double ngram_entropy_bits(const std::vector<std::string>& tokens, int n) {
  REVIVE_CHECK(n >= 1, "n-gram order must be positive");
  if (tokens.size() < static_cast<size_t>(n)) return 0.0;
  std::map<std::vector<std::string>, int64_t> counts;
  for (size_t i = 0; i + static_cast<size_t>(n) <= tokens.size(); ++i) {
    counts[std::vector<std::string>(tokens.begin() + static_cast<std::ptrdiff_t>(i),
                                    tokens.begin() + static_cast<std::ptrdiff_t>(i) + n)] += 1;
  }
  const double total = static_cast<double>(tokens.size() - static_cast<size_t>(n) + 1);
  double h = 0;
  for (const auto& kv : counts) {
    const double f = static_cast<double>(kv.second) / total;
    h -= f * std::log2(f);
  }
  return h;
}

double weighted_ngram_entropy(const std::vector<std::string>& tokens, const NgramEntropyOptions& options) {
  REVIVE_CHECK(!options.ns.empty() && options.ns.size() == options.weights.size(),
               "n-gram entropy: ns and weights must be non-empty and of equal length");
  double sum = 0;
  for (size_t i = 0; i < options.ns.size(); ++i) sum += options.weights[i] * ngram_entropy_bits(tokens, options.ns[i]);
  return sum / static_cast<double>(options.ns.size());
}

double text_ngram_entropy(const std::string& text, const NgramEntropyOptions& options) {
  return weighted_ngram_entropy(word_tokens(text), options);
}

double mean_ngram_entropy(const std::vector<std::string>& texts, const NgramEntropyOptions& options) {
  if (texts.empty()) return 0.0;
  double sum = 0;
  for (const std::string& t : texts) sum += text_ngram_entropy(t, options);
  return sum / static_cast<double>(texts.size());
}

}  // namespace revive::eval
