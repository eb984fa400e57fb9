#include "lib/data/text_corpus.h"

#include <nlohmann/json.hpp>

#include <algorithm>

#include "lib/data/json_fields.h"
#include "sharding/comm/communicator.h"
#include "sharding/errors.h"

namespace revive::data {

namespace {

constexpr std::size_t kChunkBytes = 1 << 16;

std::string trimmed(const std::string& s) {
  const char* ws = " \t\r\n\f\v";
  const std::size_t b = s.find_first_not_of(ws);
  if (b == std::string::npos) return std::string();
  const std::size_t e = s.find_last_not_of(ws);
  return s.substr(b, e - b + 1);
}

bool blank(const std::string& s) { return s.find_first_not_of(" \t\r\n\f\v") == std::string::npos; }

}  // namespace

// Produces the raw pieces of a file in order, then applies trim / skip_empty /
// max_documents and numbers what is left.
class DocumentStream::Splitter {
 public:
  Splitter(const std::string& file, const CorpusOptions& options) : file_(file), options_(options) {
    if (options_.split == DocumentSplit::kSeparator && options_.separator.empty()) {
      throw InputError(file, "separator", "document separator is empty");
    }
    if (options_.split == DocumentSplit::kJsonList) {
      load_json_list();
      return;
    }
    in_.open(file, std::ios::binary);
    if (!in_) throw InputError(file, "", "cannot open corpus file");
  }

  bool next(Document& doc) {
    if (options_.max_documents != 0 && produced_ >= options_.max_documents) return false;
    std::string piece;
    while (raw_next(piece)) {
      if (options_.trim) piece = trimmed(piece);
      if (options_.skip_empty && piece.empty()) continue;
      doc.index = produced_++;
      doc.text = std::move(piece);
      return true;
    }
    return false;
  }

 private:
  bool raw_next(std::string& piece) {
    switch (options_.split) {
      case DocumentSplit::kSeparator: return next_separated(piece);
      case DocumentSplit::kBlankLines: return next_paragraph(piece);
      case DocumentSplit::kLines: return next_line(piece);
      case DocumentSplit::kWhole: return next_whole(piece);
      case DocumentSplit::kJsonList: return next_json(piece);
    }
    return false;
  }

  bool read_chunk() {
    if (eof_) return false;
    char buf[kChunkBytes];
    in_.read(buf, sizeof(buf));
    const std::streamsize got = in_.gcount();
    if (in_.bad()) throw InputError(file_, "", "read error");
    if (got <= 0) {
      eof_ = true;
      return false;
    }
    buffer_.append(buf, static_cast<std::size_t>(got));
    return true;
  }

  // Documents are cut from buffer_ at head_; consumed bytes are dropped only when
  // the next chunk is read, so each byte is moved at most once per chunk.
  bool next_separated(std::string& piece) {
    const std::string& sep = options_.separator;
    std::size_t scan = head_;  // where the separator may start
    for (;;) {
      const std::size_t pos = buffer_.find(sep, scan);
      if (pos != std::string::npos) {
        piece.assign(buffer_, head_, pos - head_);
        head_ = pos + sep.size();
        return true;
      }
      // A separator could straddle the chunk boundary: rescan its last bytes.
      scan = std::max(head_, buffer_.size() >= sep.size() ? buffer_.size() - sep.size() + 1 : 0);
      buffer_.erase(0, head_);
      scan -= head_;
      head_ = 0;
      if (!read_chunk()) break;
    }
    if (done_) return false;
    done_ = true;  // the text after the last separator is the last document
    piece = std::move(buffer_);
    buffer_.clear();
    return true;
  }

  bool getline(std::string& line) {
    if (!std::getline(in_, line)) {
      if (in_.bad()) throw InputError(file_, "", "read error");
      return false;
    }
    if (!line.empty() && line.back() == '\r') line.pop_back();
    return true;
  }

  bool next_line(std::string& piece) { return getline(piece); }

  bool next_paragraph(std::string& piece) {
    std::string line;
    piece.clear();
    bool any = false;
    while (getline(line)) {
      if (blank(line)) {
        if (any) return true;
        continue;
      }
      if (any) piece += '\n';
      piece += line;
      any = true;
    }
    return any;
  }

  bool next_whole(std::string& piece) {
    if (done_) return false;
    while (read_chunk()) {
    }
    done_ = true;
    piece = std::move(buffer_);
    buffer_.clear();
    return true;
  }

  void load_json_list() {
    const nlohmann::json doc = load_json_file(file_);
    const nlohmann::json& records = require_record_list(doc, file_);
    json_texts_.reserve(records.size());
    for (std::size_t i = 0; i < records.size(); ++i) {
      try {
        require_object(records[i], "");
        json_texts_.push_back(string_field(records[i], options_.json_field));
      } catch (const RecordError& e) {
        throw InputError(file_, "[" + std::to_string(i) + "]." + e.field, e.what);
      }
    }
  }

  bool next_json(std::string& piece) {
    if (json_pos_ >= json_texts_.size()) return false;
    piece = std::move(json_texts_[json_pos_++]);
    return true;
  }

  std::string file_;
  CorpusOptions options_;
  std::ifstream in_;
  std::string buffer_;
  std::size_t head_ = 0;  // start of the unread part of buffer_
  bool eof_ = false, done_ = false;
  std::vector<std::string> json_texts_;
  std::size_t json_pos_ = 0;
  std::size_t produced_ = 0;
};

DocumentStream::DocumentStream(const std::string& file, const CorpusOptions& options,
                               const CorpusShard& shard)
    : shard_(shard) {
  REVIVE_CHECK(shard.size > 0 && shard.rank >= 0 && shard.rank < shard.size,
               "corpus shard: rank " + std::to_string(shard.rank) + " of " +
                   std::to_string(shard.size) + " is out of range");
  if (shard.mode == ShardMode::kContiguous && shard.size > 1) {
    const auto range = sharding::shard_range(
        static_cast<int64_t>(count_documents(file, options)), shard.rank, shard.size);
    begin_ = static_cast<std::size_t>(range.begin);
    end_ = static_cast<std::size_t>(range.end());
  }
  splitter_ = std::make_unique<Splitter>(file, options);
}

DocumentStream::~DocumentStream() = default;
DocumentStream::DocumentStream(DocumentStream&&) noexcept = default;
DocumentStream& DocumentStream::operator=(DocumentStream&&) noexcept = default;

bool DocumentStream::next(Document& doc) {
  const bool contiguous = shard_.mode == ShardMode::kContiguous && shard_.size > 1;
  while (splitter_->next(doc)) {
    if (contiguous) {
      if (doc.index >= end_) return false;
      if (doc.index >= begin_) return true;
    } else if (doc.index % static_cast<std::size_t>(shard_.size) ==
               static_cast<std::size_t>(shard_.rank)) {
      return true;
    }
  }
  return false;
}

std::size_t count_documents(const std::string& file, const CorpusOptions& options) {
  DocumentStream::Splitter splitter(file, options);
  Document doc;
  std::size_t n = 0;
  while (splitter.next(doc)) ++n;
  return n;
}

std::vector<Document> read_documents(const std::string& file, const CorpusOptions& options,
                                     const CorpusShard& shard) {
  DocumentStream stream(file, options, shard);
  std::vector<Document> out;
  Document doc;
  while (stream.next(doc)) out.push_back(std::move(doc));
  return out;
}

DocumentSplit parse_document_split(const std::string& name, const std::string& option) {
  if (name == "separator") return DocumentSplit::kSeparator;
  if (name == "lines") return DocumentSplit::kLines;
  if (name == "blank-lines") return DocumentSplit::kBlankLines;
  if (name == "whole") return DocumentSplit::kWhole;
  if (name == "json") return DocumentSplit::kJsonList;
  throw InputError(option, "", "'" + name + "' is not one of separator, lines, blank-lines, whole, json");
}

}  // namespace revive::data
