#include "lib/model/tokenizer/post_processor.h"

#include <map>
#include <string>

#include "lib/model/tokenizer/json_node.h"
#include "lib/model/tokenizer/vocab.h"

namespace revive::model::tokenizer {

namespace {

int64_t post_processor_id(const JsonNode& node) {
  int64_t id = node.integer();
  if (id < 0 || id > kMaxTokenId) node.fail("token id out of range");
  return id;
}

// The single-sequence template: a list of special-id runs and one slot for A.
class TemplateProcessor final : public PostProcessor {
 public:
  explicit TemplateProcessor(const JsonNode& node) {
    std::map<std::string, std::vector<int64_t>> specials;
    JsonNode table = node.at("special_tokens");
    if (!table.is_null()) {
      for (const auto& [name, entry] : table.items()) {
        JsonNode ids = entry.require("ids");
        std::vector<int64_t> v;
        for (size_t i = 0; i < ids.size(); ++i) v.push_back(post_processor_id(ids.index(i)));
        specials[name] = v;
      }
    }
    JsonNode single = node.require("single");
    if (!single.is_array()) single.fail("expected an array of template pieces");
    for (size_t i = 0; i < single.size(); ++i) {
      JsonNode piece = single.index(i);
      if (piece.has("SpecialToken")) {
        JsonNode id = piece.at("SpecialToken").require("id");
        auto it = specials.find(id.str());
        if (it == specials.end()) id.fail("'" + id.str() + "' is not in special_tokens");
        items_.push_back({false, it->second});
      } else if (piece.has("Sequence")) {
        JsonNode id = piece.at("Sequence").require("id");
        if (id.str() != "A") id.fail("a single-sequence template can only use sequence A");
        items_.push_back({true, {}});
      } else {
        piece.fail("expected {\"SpecialToken\": ...} or {\"Sequence\": ...}");
      }
    }
  }
  std::vector<int64_t> apply(const std::vector<int64_t>& ids) const override {
    std::vector<int64_t> out;
    for (const Item& item : items_) {
      const auto& src = item.is_sequence ? ids : item.ids;
      out.insert(out.end(), src.begin(), src.end());
    }
    return out;
  }
  std::optional<int64_t> leading_id() const override {
    if (items_.empty() || items_.front().is_sequence || items_.front().ids.empty()) return {};
    return items_.front().ids.front();
  }
  std::optional<int64_t> trailing_id() const override {
    if (items_.empty() || items_.back().is_sequence || items_.back().ids.empty()) return {};
    return items_.back().ids.back();
  }

 private:
  struct Item {
    bool is_sequence;
    std::vector<int64_t> ids;
  };
  std::vector<Item> items_;
};

// Roberta / Bert: CLS text SEP, each given as ["token", id].
class ClsSepProcessor final : public PostProcessor {
 public:
  explicit ClsSepProcessor(const JsonNode& node)
      : cls_(pair_id(node.require("cls"))), sep_(pair_id(node.require("sep"))) {}
  std::vector<int64_t> apply(const std::vector<int64_t>& ids) const override {
    std::vector<int64_t> out{cls_};
    out.insert(out.end(), ids.begin(), ids.end());
    out.push_back(sep_);
    return out;
  }
  std::optional<int64_t> leading_id() const override { return cls_; }
  std::optional<int64_t> trailing_id() const override { return sep_; }

 private:
  static int64_t pair_id(const JsonNode& pair) {
    if (!pair.is_array() || pair.size() != 2) pair.fail("expected [\"token\", id]");
    pair.index(0).str();
    return post_processor_id(pair.index(1));
  }
  int64_t cls_, sep_;
};

// ByteLevel only adjusts offsets, which are not tracked.
class IdentityProcessor final : public PostProcessor {
 public:
  std::vector<int64_t> apply(const std::vector<int64_t>& ids) const override { return ids; }
  std::optional<int64_t> leading_id() const override { return {}; }
  std::optional<int64_t> trailing_id() const override { return {}; }
};

class SequenceProcessor final : public PostProcessor {
 public:
  explicit SequenceProcessor(const JsonNode& node) {
    JsonNode list = node.require("processors");
    for (size_t i = 0; i < list.size(); ++i) parts_.push_back(make_post_processor(list.index(i)));
  }
  std::vector<int64_t> apply(const std::vector<int64_t>& ids) const override {
    std::vector<int64_t> out = ids;
    for (const auto& p : parts_) out = p->apply(out);
    return out;
  }
  std::optional<int64_t> leading_id() const override {
    std::optional<int64_t> id;
    for (const auto& p : parts_) id = p->leading_id() ? p->leading_id() : id;
    return id;
  }
  std::optional<int64_t> trailing_id() const override {
    std::optional<int64_t> id;
    for (const auto& p : parts_) id = p->trailing_id() ? p->trailing_id() : id;
    return id;
  }

 private:
  std::vector<std::unique_ptr<PostProcessor>> parts_;
};

}  // namespace

std::unique_ptr<PostProcessor> make_post_processor(const JsonNode& node) {
  const std::string type = node.type();
  if (type == "TemplateProcessing") return std::make_unique<TemplateProcessor>(node);
  if (type == "RobertaProcessing" || type == "BertProcessing") {
    return std::make_unique<ClsSepProcessor>(node);
  }
  if (type == "ByteLevel") return std::make_unique<IdentityProcessor>();
  if (type == "Sequence") return std::make_unique<SequenceProcessor>(node);
  node.at("type").fail("unsupported post_processor type '" + type + "'");
}

}  // namespace revive::model::tokenizer
