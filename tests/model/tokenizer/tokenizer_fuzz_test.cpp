// Randomized robustness: mutated tokenizer.json files only ever fail with
// revive::InputError (never a crash or another exception type), and random
// byte strings go through encode/decode, exactly round-tripping on byte-level
// and byte-fallback tokenizers. Seeds are fixed so failures reproduce.
#include <gtest/gtest.h>

#include <random>

#include "lib/model/tokenizer.h"
#include "sharding/errors.h"
#include "tests/model/tokenizer/tokenizer_test_files.h"

namespace revive::model {
namespace {

using testing::json;

std::string random_byte_string(std::mt19937& rng, size_t max_len) {
  std::uniform_int_distribution<size_t> len(0, max_len);
  std::uniform_int_distribution<int> byte(0, 255);
  std::string s(len(rng), '\0');
  for (char& c : s) c = static_cast<char>(byte(rng));
  return s;
}

// Every node of the document as a JSON pointer.
void collect_json_pointers(const json& node, const json::json_pointer& at,
                      std::vector<json::json_pointer>& out) {
  out.push_back(at);
  if (node.is_object()) {
    for (auto it = node.begin(); it != node.end(); ++it) collect_json_pointers(it.value(), at / it.key(), out);
  } else if (node.is_array()) {
    for (size_t i = 0; i < node.size(); ++i) collect_json_pointers(node[i], at / i, out);
  }
}

json random_json_value(std::mt19937& rng) {
  switch (std::uniform_int_distribution<int>(0, 9)(rng)) {
    case 0: return nullptr;
    case 1: return -1;
    case 2: return int64_t{1} << 40;
    case 3: return 2.5;
    case 4: return "";
    case 5: return "Sequence";
    case 6: return json::array();
    case 7: return json::object();
    case 8: return true;
    default: return json::array({"a", 1});
  }
}

json mutate_json_structure(const json& base, std::mt19937& rng) {
  json doc = base;
  std::vector<json::json_pointer> pointers;
  collect_json_pointers(doc, json::json_pointer(), pointers);
  const int edits = std::uniform_int_distribution<int>(1, 3)(rng);
  for (int k = 0; k < edits; ++k) {
    const auto& p = pointers[std::uniform_int_distribution<size_t>(0, pointers.size() - 1)(rng)];
    if (!doc.contains(p)) continue;
    if (!p.empty() && std::uniform_int_distribution<int>(0, 2)(rng) == 0) {
      json& parent = doc[p.parent_pointer()];
      if (parent.is_object()) parent.erase(p.back());
      continue;
    }
    doc[p] = random_json_value(rng);
  }
  return doc;
}

std::string mutate_json_text(const std::string& text, std::mt19937& rng) {
  std::string s = text;
  const int edits = std::uniform_int_distribution<int>(1, 4)(rng);
  for (int k = 0; k < edits && !s.empty(); ++k) {
    const size_t at = std::uniform_int_distribution<size_t>(0, s.size() - 1)(rng);
    switch (std::uniform_int_distribution<int>(0, 3)(rng)) {
      case 0: s[at] = static_cast<char>(std::uniform_int_distribution<int>(0, 255)(rng)); break;
      case 1: s.erase(at, std::uniform_int_distribution<size_t>(1, 16)(rng)); break;
      case 2: s.insert(at, s.substr(std::uniform_int_distribution<size_t>(0, s.size() - 1)(rng), 8)); break;
      default: s.resize(at); break;
    }
  }
  return s;
}

// Loads a mutated file; when it loads, exercises it. Returns false (with a
// test failure recorded) when something other than revive's errors escaped.
void load_and_exercise_tokenizer(const std::string& path, std::mt19937& rng, int* loaded) {
  std::optional<Tokenizer> tok;
  try {
    tok.emplace(Tokenizer::from_file(path));
  } catch (const InputError&) {
    return;
  } catch (const std::exception& e) {
    ADD_FAILURE() << "non-InputError from a mutated file: " << e.what();
    return;
  }
  ++*loaded;
  for (int i = 0; i < 4; ++i) {
    const std::string text = i == 0 ? "Hello, world! 123 it's 日本 🙂" : random_byte_string(rng, 24);
    try {
      const auto ids = tok->encode(text);
      tok->decode(ids);
    } catch (const Error&) {
      // An encode-time revive::Error (e.g. a missing unk token) is a clean failure.
    } catch (const std::exception& e) {
      ADD_FAILURE() << "encode/decode threw " << e.what();
    }
  }
  std::vector<int64_t> ids;
  for (int i = 0; i < 16; ++i) ids.push_back(std::uniform_int_distribution<int64_t>(-3, 600)(rng));
  tok->decode(ids);
  tok->decode(ids, false);
}

TEST(TokenizerFuzz, MutatedFilesFailOnlyWithInputError) {
  std::mt19937 rng(20261125);
  std::vector<json> bases = {testing::gpt2_style(), testing::word_level()};
  const std::string stories = ::revive::testing::data_path("stories260K-hf");
  if (!stories.empty()) bases.push_back(testing::llama2_style(stories));  // its pipeline comes from the fixture
  int loaded = 0, total = 0;
  for (const json& base : bases) {
    const std::string text = base.dump();
    for (int i = 0; i < 150; ++i, ++total) {
      load_and_exercise_tokenizer(testing::write_tokenizer("fuzz_s", mutate_json_structure(base, rng)), rng, &loaded);
      load_and_exercise_tokenizer(testing::write_text("fuzz_t", mutate_json_text(text, rng)), rng, &loaded);
    }
  }
  // Both outcomes must occur, or the mutations test nothing.
  EXPECT_GT(loaded, 0);
  EXPECT_LT(loaded, 2 * total);
}

TEST(TokenizerFuzz, RandomBytesRoundTripOnByteLevelBpe) {
  const Tokenizer tok = Tokenizer::from_file(testing::write_tokenizer("fuzz_bl", testing::gpt2_style()));
  std::mt19937 rng(7);
  for (int i = 0; i < 400; ++i) {
    const std::string text = random_byte_string(rng, 64);
    ASSERT_EQ(tok.decode(tok.encode(text)), text) << "case " << i;
  }
}

TEST(TokenizerFuzz, RandomBytesRoundTripWithByteFallback) {
  REVIVE_REQUIRE_DATA(folder, "stories260K-hf");
  const Tokenizer tok = Tokenizer::from_file(testing::write_tokenizer("fuzz_bf", testing::llama2_style(folder)));
  std::mt19937 rng(11);
  for (int i = 0; i < 400; ++i) {
    const std::string text = random_byte_string(rng, 64);
    // A literal "▁" would decode as a space; random bytes almost never hold one.
    if (text.find("\xE2\x96\x81") != std::string::npos) continue;
    ASSERT_EQ(tok.decode(tok.encode(text)), text) << "case " << i;
  }
}

TEST(TokenizerFuzz, RandomBytesThroughStories) {
  REVIVE_REQUIRE_DATA(dir, "stories260K-hf");
  const Tokenizer tok = Tokenizer::from_file(dir);
  std::mt19937 rng(13);
  for (int i = 0; i < 200; ++i) {
    const std::string text = random_byte_string(rng, 48);
    if (text.find("\xE2\x96\x81") != std::string::npos || text.find("<s>") != std::string::npos) continue;
    const auto ids = tok.encode(text);
    for (int64_t id : ids) ASSERT_LT(id, tok.vocab_size());
    ASSERT_EQ(tok.decode(ids), text) << "case " << i;
  }
}

}  // namespace
}  // namespace revive::model
