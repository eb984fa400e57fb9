#pragma once
// post_processor of tokenizer.json for single sequences: the special ids put
// around the encoded text (BOS, CLS/SEP). Supported: TemplateProcessing,
// RobertaProcessing, BertProcessing, ByteLevel (ids unchanged), Sequence.
#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

namespace revive::model::tokenizer {

class JsonNode;

class PostProcessor {
 public:
  virtual ~PostProcessor() = default;
  virtual std::vector<int64_t> apply(const std::vector<int64_t>& ids) const = 0;
  // The id placed first before the text (the BOS a model sees), if any.
  virtual std::optional<int64_t> leading_id() const = 0;
  // The id placed last after the text (Roberta/Bert SEP), if any.
  virtual std::optional<int64_t> trailing_id() const = 0;
};

// `node` is a non-null post_processor object.
std::unique_ptr<PostProcessor> make_post_processor(const JsonNode& node);

}  // namespace revive::model::tokenizer
