#pragma once
// Small tokenizer.json documents built by the tests (GPT-2-style byte-level
// BPE, WordLevel, Llama-2-style byte-fallback BPE on the fixture's pipeline)
// and a writer for them.
#include <fstream>
#include <string>

#include <nlohmann/json.hpp>

#include "lib/model/tokenizer/byte_level.h"
#include "tests/support/fixture_files.h"
#include "tests/support/fixtures.h"

namespace revive::model::testing {

using nlohmann::json;

inline std::string write_tokenizer(const std::string& tag, const json& doc) {
  const std::string dir = ::revive::testing::temp_dir(tag);
  const std::string path = dir + "/tokenizer.json";
  std::ofstream(path) << doc.dump(2);
  return path;
}

inline std::string write_text(const std::string& tag, const std::string& text) {
  const std::string dir = ::revive::testing::temp_dir(tag);
  const std::string path = dir + "/tokenizer.json";
  std::ofstream(path, std::ios::binary) << text;
  return path;
}

// GPT-2 layout: ids 0..255 are the byte-level characters in byte order, then
// the merge results; "<|endoftext|>" is a special added token.
inline json gpt2_style() {
  json vocab = json::object();
  for (int b = 0; b < 256; ++b) {
    vocab[tokenizer::byte_level_encode(std::string(1, static_cast<char>(b)))] = b;
  }
  const std::vector<std::string> merges = {"Ġ t", "h e", "Ġt he", "i n", "Ġ a", "r e", "e r",
                                           "Ġ w", "o r", "Ġw or", "l d", "Ġwor ld", "Ġ 1",
                                           "1 2", "Ġ 12", "Ġ Ġ", "ĠĠ Ġ", "ä ¸"};
  int next = 256;
  for (const auto& m : merges) {
    const size_t space = m.find(' ');
    vocab[m.substr(0, space) + m.substr(space + 1)] = next++;
  }
  vocab["Ġhello"] = next++;  // reachable only with ignore_merges
  vocab["<|endoftext|>"] = next++;
  json doc = {
      {"version", "1.0"},
      {"truncation", nullptr},
      {"padding", nullptr},
      {"added_tokens",
       json::array({{{"id", next - 1},
                     {"content", "<|endoftext|>"},
                     {"single_word", false},
                     {"lstrip", false},
                     {"rstrip", false},
                     {"normalized", false},
                     {"special", true}}})},
      {"normalizer", nullptr},
      {"pre_tokenizer",
       {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"trim_offsets", true}, {"use_regex", true}}},
      {"post_processor",
       {{"type", "ByteLevel"}, {"add_prefix_space", true}, {"trim_offsets", false}, {"use_regex", true}}},
      {"decoder",
       {{"type", "ByteLevel"}, {"add_prefix_space", true}, {"trim_offsets", true}, {"use_regex", true}}},
      {"model",
       {{"type", "BPE"},
        {"dropout", nullptr},
        {"unk_token", nullptr},
        {"continuing_subword_prefix", ""},
        {"end_of_word_suffix", ""},
        {"fuse_unk", false},
        {"byte_fallback", false},
        {"ignore_merges", false},
        {"vocab", vocab},
        {"merges", merges}}}};
  return doc;
}

inline json word_level() {
  return {{"version", "1.0"},
          {"added_tokens", json::array()},
          {"normalizer", nullptr},
          {"pre_tokenizer", {{"type", "Whitespace"}}},
          {"post_processor", nullptr},
          {"decoder", nullptr},
          {"model",
           {{"type", "WordLevel"},
            {"vocab", {{"[UNK]", 0}, {"hello", 1}, {"world", 2}, {"!", 3}, {",", 4}, {"don", 5}, {"'", 6}, {"t", 7}}},
            {"unk_token", "[UNK]"}}}};
}

// Llama-2 layout in miniature: the pipeline of the stories260K fixture's
// tokenizer.json (its "▁" normalizer, BOS template and SentencePiece decoder
// chain), read from ../shared/data/stories260K-hf (`fixture`), around a small
// vocabulary: <unk>, <s>, </s>, 256 byte tokens, letters, merges.
inline json llama2_style(const std::string& fixture) {
  const json real = ::revive::testing::read_json(fixture + "/tokenizer.json");
  json vocab = {{"<unk>", 0}, {"<s>", 1}, {"</s>", 2}};
  char name[8];
  for (int b = 0; b < 256; ++b) {
    std::snprintf(name, sizeof(name), "<0x%02X>", b);
    vocab[name] = 3 + b;
  }
  int next = 259;
  for (const char* piece : {"▁", "a", "b", "c", "h", "t", "e", "▁t", "he", "▁the", "▁a", "ab", "▁ab"}) {
    vocab[piece] = next++;
  }
  auto special = [](int id, const char* content) {
    return json{{"id", id}, {"content", content}, {"single_word", false}, {"lstrip", false},
                {"rstrip", false}, {"normalized", false}, {"special", true}};
  };
  return {{"version", "1.0"},
          {"added_tokens", {special(0, "<unk>"), special(1, "<s>"), special(2, "</s>")}},
          {"normalizer", real.at("normalizer")},
          {"pre_tokenizer", real.at("pre_tokenizer")},
          {"post_processor", real.at("post_processor")},
          {"decoder", real.at("decoder")},
          {"model",
           {{"type", "BPE"},
            {"dropout", nullptr},
            {"unk_token", "<unk>"},
            {"fuse_unk", true},
            {"byte_fallback", true},
            {"vocab", vocab},
            // Pair-array form of merges (newer files) mixed with strings.
            {"merges", json::array({json::array({"▁", "t"}), "h e", "▁t he", "▁ a", "a b", "▁ ab"})}}}};
}

}  // namespace revive::model::testing
