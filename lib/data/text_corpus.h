#pragma once
// Plain-text corpora for layer statistics, perplexity and fluency: a file split into
// documents, streamed one at a time (a corpus is never loaded whole, except the
// JSON-list form), and sharded deterministically over data-parallel ranks.
//
// Document numbering: the documents of a file (after trimming and dropping empty
// ones, before max_documents and sharding) are numbered 0, 1, 2, ... in file
// order. max_documents keeps the first N of them, so every rank count sees the
// same global set, and the union of all ranks' shards is exactly that set.
//
// Sharding (CorpusShard):
//   kStrided    rank r of n takes the documents with index % n == r. One pass, no
//               count needed; neighbouring documents go to different ranks, which
//               balances length drift along a file.
//   kContiguous rank r takes the balanced range sharding::shard_range(N, r, n) of
//               the N documents (the first N % n ranks get one more). Needs a first
//               counting pass over the file; keeps each rank's text contiguous.
#include <cstddef>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

namespace revive::data {

enum class DocumentSplit {
  kSeparator,   // documents end at `separator` (TinyStories: "<|endoftext|>")
  kBlankLines,  // documents are runs of non-blank lines (paragraphs), joined by "\n"
  kLines,       // every line is a document (WikiText-2 raw, one sentence per line)
  kWhole,       // the whole file is one document
  kJsonList,    // a JSON list of objects; `json_field` of each is a document (ME-PPL: "Text")
};

struct CorpusOptions {
  DocumentSplit split = DocumentSplit::kSeparator;
  std::string separator = "<|endoftext|>";
  std::string json_field = "Text";
  bool trim = true;               // strip whitespace (incl. CR/LF) around each document
  bool skip_empty = true;         // drop documents that are empty (after trimming)
  std::size_t max_documents = 0;  // keep the first N documents of the file; 0: all
};

// Command-line names: separator, lines, blank-lines, whole, json. Throws
// revive::InputError naming `option` (e.g. "--split") for any other name.
DocumentSplit parse_document_split(const std::string& name, const std::string& option);

enum class ShardMode { kStrided, kContiguous };

struct CorpusShard {
  int rank = 0;
  int size = 1;
  ShardMode mode = ShardMode::kStrided;
};

struct Document {
  std::size_t index = 0;  // global position in the file's document sequence
  std::string text;
};

// Streams the documents of one shard of a corpus file.
class DocumentStream {
 public:
  // Throws revive::InputError when the file cannot be opened (or, for kJsonList,
  // parsed, or a record lacks the field) and revive::Error for a bad shard.
  explicit DocumentStream(const std::string& file, const CorpusOptions& options = {},
                          const CorpusShard& shard = {});
  ~DocumentStream();
  DocumentStream(DocumentStream&&) noexcept;
  DocumentStream& operator=(DocumentStream&&) noexcept;

  // The next document of this shard; false at the end.
  bool next(Document& doc);

  class Splitter;  // the unsharded document sequence of one file

 private:
  std::unique_ptr<Splitter> splitter_;
  CorpusShard shard_;
  std::size_t begin_ = 0, end_ = 0;  // kContiguous: this rank's global index range
};

// Number of documents in the file (after max_documents).
std::size_t count_documents(const std::string& file, const CorpusOptions& options = {});

// All documents of one shard, in order.
std::vector<Document> read_documents(const std::string& file, const CorpusOptions& options = {},
                                     const CorpusShard& shard = {});

}  // namespace revive::data
