#include "lib/data/text_corpus.h"

#include <gtest/gtest.h>

#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "sharding/errors.h"
#include "tests/data/write_text.h"
#include "tests/support/fixture_files.h"
#include "tests/support/fixtures.h"

namespace revive::data {
namespace {

using revive::data::testing::write_text;

std::vector<std::string> texts(const std::vector<Document>& docs) {
  std::vector<std::string> out;
  for (const auto& d : docs) out.push_back(d.text);
  return out;
}

TEST(TextCorpus, SeparatorSplitTrimsAndDropsEmpty) {
  const std::string dir = revive::testing::temp_dir("corpus");
  const std::string file =
      write_text(dir, "a.txt", "One story.\n<|endoftext|>\n  Two\nlines  <|endoftext|><|endoftext|>\nThree");
  const auto docs = read_documents(file);
  EXPECT_EQ(texts(docs), (std::vector<std::string>{"One story.", "Two\nlines", "Three"}));
  EXPECT_EQ(docs[2].index, 2u);

  CorpusOptions raw;
  raw.trim = false;
  raw.skip_empty = false;
  EXPECT_EQ(texts(read_documents(file, raw)),
            (std::vector<std::string>{"One story.\n", "\n  Two\nlines  ", "", "\nThree"}));
}

TEST(TextCorpus, OtherSplits) {
  const std::string dir = revive::testing::temp_dir("corpus-split");
  const std::string file = write_text(dir, "b.txt", "a b\r\nc\r\n\r\n \nd\n\ne\n");
  CorpusOptions lines;
  lines.split = DocumentSplit::kLines;
  EXPECT_EQ(texts(read_documents(file, lines)), (std::vector<std::string>{"a b", "c", "d", "e"}));
  CorpusOptions paras;
  paras.split = DocumentSplit::kBlankLines;
  EXPECT_EQ(texts(read_documents(file, paras)), (std::vector<std::string>{"a b\nc", "d", "e"}));
  CorpusOptions whole;
  whole.split = DocumentSplit::kWhole;
  EXPECT_EQ(texts(read_documents(file, whole)),
            (std::vector<std::string>{"a b\r\nc\r\n\r\n \nd\n\ne"}));
  CorpusOptions custom;
  custom.separator = "\n\n";
  // "\r\n\r\n" is no "\n\n": only "d\n\ne" splits.
  EXPECT_EQ(texts(read_documents(file, custom)),
            (std::vector<std::string>{"a b\r\nc\r\n\r\n \nd", "e"}));
}

TEST(TextCorpus, JsonList) {
  const std::string dir = revive::testing::temp_dir("corpus-json");
  CorpusOptions opts;
  opts.split = DocumentSplit::kJsonList;
  const std::string file =
      write_text(dir, "c.json", R"([{"Text": " one "}, {"Text": "two", "Corpus": "C4"}])");
  EXPECT_EQ(texts(read_documents(file, opts)), (std::vector<std::string>{"one", "two"}));
  const std::string bad = write_text(dir, "d.json", R"([{"Text": "one"}, {"text": "two"}])");
  try {
    read_documents(bad, opts);
    FAIL();
  } catch (const InputError& e) {
    EXPECT_EQ(e.field(), "[1].Text");
  }
}

TEST(TextCorpus, SeparatorAcrossChunkBoundaries) {
  // Documents sized so separators straddle the reader's 64 KiB chunk edges.
  const std::string sep = "<|endoftext|>";
  std::vector<std::string> expected;
  std::string content;
  const std::size_t lengths[] = {65536 - 5, 65536 - 12, 1, 65536 + 7, 3, 131072, 70000};
  char c = 'a';
  for (std::size_t len : lengths) {
    expected.push_back(std::string(len, c));
    c = static_cast<char>(c + 1);
    content += expected.back() + sep;
  }
  const std::string dir = revive::testing::temp_dir("corpus-chunks");
  const std::string file = write_text(dir, "big.txt", content);
  EXPECT_EQ(texts(read_documents(file)), expected);
}

TEST(TextCorpus, MaxDocumentsKeepsTheFirstN) {
  const std::string dir = revive::testing::temp_dir("corpus-max");
  const std::string file = write_text(dir, "m.txt", "a<|endoftext|>b<|endoftext|>c<|endoftext|>d");
  CorpusOptions opts;
  opts.max_documents = 3;
  EXPECT_EQ(texts(read_documents(file, opts)), (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(count_documents(file, opts), 3u);
  // Sharding applies after the cut: rank 1 of 2 gets b only.
  EXPECT_EQ(texts(read_documents(file, opts, CorpusShard{1, 2, ShardMode::kStrided})),
            (std::vector<std::string>{"b"}));
}

// Every rank count and mode: shards are disjoint, in order, cover everything, and
// follow the documented rule.
TEST(TextCorpus, ShardsPartitionTheDocuments) {
  const std::string dir = revive::testing::temp_dir("corpus-shard");
  std::string content;
  for (int i = 0; i < 11; ++i) content += "doc" + std::to_string(i) + "\n\n";
  const std::string file = write_text(dir, "s.txt", content);
  CorpusOptions opts;
  opts.split = DocumentSplit::kBlankLines;
  for (ShardMode mode : {ShardMode::kStrided, ShardMode::kContiguous}) {
    for (int n = 1; n <= 5; ++n) {
      std::set<std::size_t> seen;
      for (int r = 0; r < n; ++r) {
        const auto docs = read_documents(file, opts, CorpusShard{r, n, mode});
        const std::size_t base = 11 / n, extra = 11 % n;
        const std::size_t rr = static_cast<std::size_t>(r);
        const std::size_t begin = rr * base + std::min(rr, extra);
        const std::size_t size = base + (rr < extra ? 1 : 0);
        if (mode == ShardMode::kContiguous) {
          ASSERT_EQ(docs.size(), size);
        }
        for (std::size_t k = 0; k < docs.size(); ++k) {
          const std::size_t i = docs[k].index;
          EXPECT_EQ(docs[k].text, "doc" + std::to_string(i));
          if (mode == ShardMode::kStrided) {
            EXPECT_EQ(i, rr + k * static_cast<std::size_t>(n));
          } else {
            EXPECT_EQ(i, begin + k);
          }
          EXPECT_TRUE(seen.insert(i).second) << "document " << i << " twice";
        }
      }
      EXPECT_EQ(seen.size(), 11u) << "n=" << n;
    }
  }
  EXPECT_THROW(DocumentStream(file, opts, CorpusShard{2, 2, ShardMode::kStrided}), Error);
  EXPECT_THROW(DocumentStream(dir + "/missing.txt"), InputError);
}

// The real corpora against a split of their bytes done here (nothing of the text
// is copied into the test).
using revive::testing::read_json;
using revive::testing::read_text;
using revive::testing::split_stripped;
using revive::testing::strip;

TEST(TextCorpus, RealCorpora) {
  REVIVE_REQUIRE_DATA(dir, "text_corpora");
  // TinyStories: stories between "<|endoftext|>" separators (README), trimmed.
  const std::vector<std::string> pieces =
      split_stripped(read_text(dir + "/tinystories_head_2MiB.txt"), "<|endoftext|>");
  ASSERT_GT(pieces.size(), 2u);
  for (const auto& p : pieces) ASSERT_FALSE(p.empty());  // none dropped, so the count is separators + 1
  const auto stories = read_documents(dir + "/tinystories_head_2MiB.txt");
  ASSERT_EQ(stories.size(), pieces.size());
  EXPECT_EQ(stories[0].text, pieces[0]);
  EXPECT_EQ(stories[1].text, pieces[1]);
  EXPECT_EQ(stories.back().text, pieces.back());
  // WikiText-2: CRLF lines, none blank (README); kept untrimmed.
  const std::string wiki_bytes = read_text(dir + "/wikitext2_raw_test.raw");
  std::vector<std::string> lines;
  for (size_t at = 0; at < wiki_bytes.size();) {
    size_t end = wiki_bytes.find('\n', at);
    if (end == std::string::npos) end = wiki_bytes.size();
    std::string line = wiki_bytes.substr(at, end - at);
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (!line.empty()) lines.push_back(line);
    at = end + 1;
  }
  ASSERT_FALSE(lines.empty());
  CorpusOptions line_split;
  line_split.split = DocumentSplit::kLines;
  line_split.trim = false;
  const auto wiki = read_documents(dir + "/wikitext2_raw_test.raw", line_split);
  ASSERT_EQ(wiki.size(), lines.size());
  EXPECT_EQ(wiki[0].text, lines[0]);
  EXPECT_EQ(wiki.back().text, lines.back());
  EXPECT_NE(wiki[0].text, strip(wiki[0].text)) << "the test should see untrimmed text";
  // ME-PPL: a JSON list of objects.
  const nlohmann::json me_ppl = read_json(dir + "/ME-PPL.json");
  CorpusOptions json_list;
  json_list.split = DocumentSplit::kJsonList;
  EXPECT_EQ(count_documents(dir + "/ME-PPL.json", json_list), me_ppl.size());
}

TEST(TextCorpus, DocumentSplitNamesParseAndUnknownNamesNameTheOption) {
  EXPECT_EQ(parse_document_split("separator", "--split"), DocumentSplit::kSeparator);
  EXPECT_EQ(parse_document_split("lines", "--split"), DocumentSplit::kLines);
  EXPECT_EQ(parse_document_split("blank-lines", "--split"), DocumentSplit::kBlankLines);
  EXPECT_EQ(parse_document_split("whole", "--split"), DocumentSplit::kWhole);
  EXPECT_EQ(parse_document_split("json", "--split"), DocumentSplit::kJsonList);
  try {
    parse_document_split("paragraphs", "--eval-text-split");
    FAIL();
  } catch (const InputError& e) {
    EXPECT_EQ(e.file(), "--eval-text-split");
    EXPECT_NE(std::string(e.what()).find("paragraphs"), std::string::npos);
  }
}

}  // namespace
}  // namespace revive::data
