#include "lib/edit/run/context_templates.h"

#include <algorithm>

#include "lib/model/generation.h"
#include "lib/model/tokenizer.h"
#include "lib/model/transformer.h"
#include "sharding/errors.h"

namespace revive::edit {

ContextTemplates make_context_templates(model::Transformer& model, const model::Tokenizer& tokenizer,
                                        const ContextTemplateOptions& options) {
  ContextTemplates out = {{"{}"}};
  if (options.per_prefix <= 0 || options.prefixes.empty()) return out;
  REVIVE_CHECK(options.max_tokens >= 1, "context templates: max_tokens must be at least 1");
  std::vector<std::vector<int64_t>> prompts;
  for (const std::string& prefix : options.prefixes) {
    const std::vector<int64_t> ids = tokenizer.encode(prefix, /*add_special=*/true);
    for (int64_t i = 0; i < options.per_prefix; ++i) prompts.push_back(ids);
  }
  model::GenerationOptions gen;
  gen.top_k = std::max<int64_t>(1, options.top_k);
  gen.seed = options.seed;
  std::vector<std::string> generated;
  // Each generation is max_tokens long including the prefix's own tokens (BOS excluded).
  size_t p = 0;
  for (const std::string& prefix : options.prefixes) {
    const int64_t prefix_len = static_cast<int64_t>(tokenizer.encode(prefix, false).size());
    gen.max_new_tokens = std::max<int64_t>(0, options.max_tokens - prefix_len);
    const std::vector<std::vector<int64_t>> these(prompts.begin() + static_cast<std::ptrdiff_t>(p),
                                                  prompts.begin() + static_cast<std::ptrdiff_t>(p + static_cast<size_t>(options.per_prefix)));
    p += static_cast<size_t>(options.per_prefix);
    const auto news = gen.max_new_tokens > 0 ? model::generate(model, these, gen)
                                             : std::vector<std::vector<int64_t>>(these.size());
    for (size_t i = 0; i < these.size(); ++i) {
      std::vector<int64_t> ids = these[i];
      ids.insert(ids.end(), news[i].begin(), news[i].end());
      std::string text = tokenizer.decode(ids, /*skip_special=*/true);
      std::replace(text.begin(), text.end(), '{', ' ');
      std::replace(text.begin(), text.end(), '}', ' ');
      generated.push_back(text + ". {}");
    }
  }
  out.push_back(std::move(generated));
  return out;
}

size_t count_templates(const ContextTemplates& templates) {
  size_t n = 0;
  for (const auto& g : templates) n += g.size();
  return n;
}

}  // namespace revive::edit
