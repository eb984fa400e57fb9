// Tokenizer: the pipeline of tokenizer.json put together, HF's order:
// added tokens (raw) -> normalizer -> added tokens (normalized) ->
// pre-tokenizer -> model -> post-processor; decode: ids -> tokens -> decoder.
#include "lib/model/tokenizer.h"

#include <filesystem>

#include <nlohmann/json.hpp>

#include "lib/model/tokenizer/added_tokens.h"
#include "lib/model/tokenizer/decoder.h"
#include "lib/model/tokenizer/json_node.h"
#include "lib/model/tokenizer/normalizer.h"
#include "lib/model/tokenizer/post_processor.h"
#include "lib/model/tokenizer/pre_tokenizer.h"
#include "lib/model/tokenizer/token_model.h"
#include "sharding/checkpoint/file_tree.h"
#include "sharding/errors.h"

namespace revive::model {

using tokenizer::JsonNode;

struct Tokenizer::Impl {
  std::unique_ptr<tokenizer::Normalizer> normalizer;
  std::unique_ptr<tokenizer::PreTokenizer> pre_tokenizer;
  std::unique_ptr<tokenizer::TokenModel> model;
  tokenizer::AddedVocabulary added;
  std::unique_ptr<tokenizer::PostProcessor> post_processor;
  std::unique_ptr<tokenizer::Decoder> decoder;
  std::optional<int64_t> bos, eos, pad;

  std::optional<int64_t> token_to_id(const std::string& token) const {
    if (auto id = added.id(token)) return id;
    return model->vocab().id(token);
  }
  // A special-token name from tokenizer_config.json. Exact match first; then an
  // added token equal up to surrounding whitespace, because llama2.c exports
  // write BOS/EOS as "\n<s>\n" while the config says "<s>".
  std::optional<int64_t> resolve(const std::string& name) const {
    if (name.empty()) return std::nullopt;
    if (auto id = token_to_id(name)) return id;
    const auto trim = [](const std::string& s) {
      size_t b = s.find_first_not_of(" \t\r\n"), e = s.find_last_not_of(" \t\r\n");
      return b == std::string::npos ? std::string() : s.substr(b, e - b + 1);
    };
    for (const auto& a : added.tokens()) {
      if (trim(a.content) == name) return a.id;
    }
    return std::nullopt;
  }
  std::optional<int64_t> first_known(std::initializer_list<const char*> names) const {
    for (const char* n : names) {
      if (auto id = token_to_id(n)) return id;
    }
    return std::nullopt;
  }
};

namespace {

nlohmann::json read_tokenizer_json(const std::string& file) {
  const std::string text = sharding::read_text_file(file);
  try {
    return nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& e) {
    throw InputError(file, "<json>", std::string("malformed JSON: ") + e.what());
  }
}

// A token entry of tokenizer_config.json: "<s>", {"content": "<s>", ...} or null.
std::string tokenizer_config_token(const JsonNode& config, const std::string& key) {
  if (!config.has(key)) return {};
  JsonNode v = config.at(key);
  return v.is_string() ? v.str() : v.require("content").str();
}

}  // namespace

namespace {

std::unique_ptr<Tokenizer::Impl> load_tokenizer(const std::string& file) {
  namespace fs = std::filesystem;
  std::error_code ec;
  const fs::path folder = fs::path(file).parent_path();
  const nlohmann::json doc = read_tokenizer_json(file);
  const JsonNode root(&doc, file, "");
  if (!root.is_object()) root.fail("expected a JSON object");

  auto impl = std::make_unique<Tokenizer::Impl>();
  if (root.has("normalizer")) impl->normalizer = tokenizer::make_normalizer(root.at("normalizer"));
  if (root.has("pre_tokenizer")) {
    impl->pre_tokenizer = tokenizer::make_pre_tokenizer(root.at("pre_tokenizer"));
  }
  impl->model = tokenizer::make_token_model(root.require("model"));
  impl->added = tokenizer::AddedVocabulary(root.at("added_tokens"), impl->normalizer.get());
  if (root.has("post_processor")) {
    impl->post_processor = tokenizer::make_post_processor(root.at("post_processor"));
  }
  if (root.has("decoder")) impl->decoder = tokenizer::make_decoder(root.at("decoder"));

  // Special ids: what the post-processor inserts, else tokenizer_config.json
  // beside the file, else conventional names.
  std::string bos_name, eos_name, pad_name;
  const fs::path config_file = folder / "tokenizer_config.json";
  if (fs::is_regular_file(config_file, ec)) {
    const nlohmann::json config_doc = read_tokenizer_json(config_file.string());
    const JsonNode config(&config_doc, config_file.string(), "");
    if (!config.is_object()) config.fail("expected a JSON object");
    bos_name = tokenizer_config_token(config, "bos_token");
    eos_name = tokenizer_config_token(config, "eos_token");
    pad_name = tokenizer_config_token(config, "pad_token");
  }
  if (impl->post_processor) impl->bos = impl->post_processor->leading_id();
  if (!impl->bos) impl->bos = impl->resolve(bos_name);
  if (!impl->bos) impl->bos = impl->first_known({"<s>", "<|begin_of_text|>", "<bos>"});
  impl->eos = impl->resolve(eos_name);
  if (!impl->eos && impl->post_processor) impl->eos = impl->post_processor->trailing_id();
  if (!impl->eos) {
    impl->eos = impl->first_known({"</s>", "<|end_of_text|>", "<|endoftext|>", "<eos>"});
  }
  JsonNode padding = root.at("padding");
  if (!padding.is_null()) {
    int64_t id = padding.require("pad_id").integer();
    if (id < 0 || id > tokenizer::kMaxTokenId) padding.at("pad_id").fail("token id out of range");
    impl->pad = id;
  } else {
    impl->pad = impl->resolve(pad_name);
  }
  return impl;
}

}  // namespace

Tokenizer Tokenizer::from_file(const std::string& path) {
  std::error_code ec;
  const std::string file = std::filesystem::is_directory(path, ec)
                               ? (std::filesystem::path(path) / "tokenizer.json").string()
                               : path;
  try {
    return Tokenizer(load_tokenizer(file));
  } catch (const nlohmann::json::exception& e) {
    // Every field is read through JsonNode's checks; this is a last line of
    // defence so no malformed file escapes as anything but an InputError.
    throw InputError(file, "<json>", e.what());
  }
}

Tokenizer::Tokenizer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Tokenizer::~Tokenizer() = default;
Tokenizer::Tokenizer(Tokenizer&&) noexcept = default;
Tokenizer& Tokenizer::operator=(Tokenizer&&) noexcept = default;

std::vector<int64_t> Tokenizer::encode(const std::string& text, bool add_special) const {
  const Impl& t = *impl_;
  std::vector<int64_t> ids;
  bool at_text_start = true;  // nothing emitted yet: the next piece begins the text
  for (const auto& raw : t.added.split(text, /*normalized_pass=*/false)) {
    if (raw.id) {
      ids.push_back(*raw.id);
      at_text_start = false;
      continue;
    }
    const std::string normalized = t.normalizer ? t.normalizer->normalize(raw.text) : raw.text;
    for (const auto& seg : t.added.split(normalized, /*normalized_pass=*/true)) {
      if (seg.id) {
        ids.push_back(*seg.id);
        at_text_start = false;
        continue;
      }
      std::vector<std::string> pieces{seg.text};
      if (t.pre_tokenizer) t.pre_tokenizer->pre_tokenize(pieces, at_text_start);
      for (const std::string& piece : pieces) t.model->tokenize(piece, ids);
      at_text_start = false;
    }
  }
  if (add_special && t.post_processor) ids = t.post_processor->apply(ids);
  return ids;
}

std::string Tokenizer::decode(const std::vector<int64_t>& ids, bool skip_special) const {
  const Impl& t = *impl_;
  std::vector<std::string> tokens;
  tokens.reserve(ids.size());
  for (int64_t id : ids) {
    if (const auto* a = t.added.token(id)) {
      if (!(skip_special && a->special)) tokens.push_back(a->content);
    } else if (const std::string* s = t.model->vocab().token(id)) {
      tokens.push_back(*s);
    }
    // Unknown ids are dropped, as HF does.
  }
  if (!t.decoder) {
    // Without a decoder HF joins the pieces with single spaces.
    std::string out;
    for (size_t i = 0; i < tokens.size(); ++i) out += (i ? " " : "") + tokens[i];
    return out;
  }
  std::string out;
  for (const std::string& s : t.decoder->decode_chain(std::move(tokens))) out += s;
  return out;
}

std::string Tokenizer::id_to_token(int64_t id) const {
  if (const auto* a = impl_->added.token(id)) return a->content;
  if (const std::string* s = impl_->model->vocab().token(id)) return *s;
  throw Error("tokenizer: id " + std::to_string(id) + " is not in the vocabulary");
}

std::optional<int64_t> Tokenizer::token_to_id(const std::string& token) const {
  return impl_->token_to_id(token);
}

int64_t Tokenizer::vocab_size() const {
  int64_t max_id = impl_->model->vocab().max_id();
  for (const auto& a : impl_->added.tokens()) max_id = std::max(max_id, a.id);
  return max_id + 1;
}

std::optional<int64_t> Tokenizer::bos_id() const { return impl_->bos; }
std::optional<int64_t> Tokenizer::eos_id() const { return impl_->eos; }
std::optional<int64_t> Tokenizer::pad_id() const { return impl_->pad; }

}  // namespace revive::model
