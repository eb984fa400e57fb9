#pragma once
// Fluency of generated text as weighted n-gram entropy, as ROME/MEMIT compute
// it (kmeng01/memit, experiments/py/eval_utils_counterfact.py:
// compute_n_gram_entropy and n_gram_entropy; the same code in ROME):
//
//   H_n(text)   = -sum_g f_g log2 f_g       over the distinct n-grams g of the
//                                           text's word tokens, f_g = count / total
//   fluency     = mean_n ( w_n * H_n )      ns = {2, 3}, weights = {2/3, 4/3}
//                 = (2/3 H_2 + 4/3 H_3) / 2  (bits)
//
// and a set of generations is scored by the arithmetic mean over the texts
// (`n_gram_entropy`). A text with fewer than n tokens has H_n = 0. MEMIT
// tokenises with nltk.word_tokenize; word_tokens() is a close, dependency-free
// stand-in (whitespace split, punctuation as separate tokens, apostrophe
// suffixes such as 's / n't kept together as nltk does).
#include <string>
#include <vector>

namespace revive::eval {

struct NgramEntropyOptions {
  std::vector<int> ns = {2, 3};
  std::vector<double> weights = {2.0 / 3.0, 4.0 / 3.0};
};

// Words and punctuation of `text` (see above).
std::vector<std::string> word_tokens(const std::string& text);

// Entropy in bits of the n-gram distribution of `tokens` (0 when there are fewer than n).
double ngram_entropy_bits(const std::vector<std::string>& tokens, int n);

// mean_n(w_n * H_n) of one token list. Throws revive::Error when ns and weights
// differ in length or are empty.
double weighted_ngram_entropy(const std::vector<std::string>& tokens, const NgramEntropyOptions& options = {});

// Of one text (word_tokens), and the mean over several texts (0 for none).
double text_ngram_entropy(const std::string& text, const NgramEntropyOptions& options = {});
double mean_ngram_entropy(const std::vector<std::string>& texts, const NgramEntropyOptions& options = {});

}  // namespace revive::eval
