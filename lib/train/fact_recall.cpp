#include "lib/train/fact_recall.h"

#include <ATen/ATen.h>

#include <map>

#include "lib/data/edit_request.h"
#include "lib/model/prompt_tokens.h"
#include "lib/model/transformer.h"
#include "sharding/errors.h"

namespace revive::train {

std::vector<FactProbe> make_fact_probes(const data::ToyWorld& world, const model::Tokenizer& tokenizer) {
  std::vector<FactProbe> out;
  const std::vector<data::ToyFact> facts = world.facts();
  for (size_t i = 0; i < facts.size(); ++i) {
    const data::ToyFact& f = facts[i];
    const data::ToyRelation& rel = world.relations()[static_cast<size_t>(f.relation)];
    const std::string& subject = world.subjects()[static_cast<size_t>(f.subject)];
    const std::string& object = rel.objects[static_cast<size_t>(f.object)];
    for (size_t p = 0; p < rel.phrasings.size(); ++p) {
      FactProbe probe;
      probe.fact = static_cast<int>(i);
      probe.phrasing = static_cast<int>(p);
      probe.tokens =
          model::tokenize_continuation(tokenizer, data::render_prompt(rel.phrasings[p], subject), object);
      out.push_back(std::move(probe));
    }
  }
  return out;
}

RecallReport measure_fact_recall(model::Transformer& model, const std::vector<FactProbe>& probes,
                                 int64_t batch_size) {
  REVIVE_CHECK(batch_size > 0, "measure_fact_recall: batch_size must be positive");
  at::NoGradGuard no_grad;
  RecallReport report;
  std::map<int, bool> fact_ok;  // fact -> recalled in every phrasing so far
  for (size_t begin = 0; begin < probes.size(); begin += static_cast<size_t>(batch_size)) {
    const size_t end = std::min(probes.size(), begin + static_cast<size_t>(batch_size));
    std::vector<model::Continuation> items;
    items.reserve(end - begin);
    for (size_t i = begin; i < end; ++i) items.push_back(probes[i].tokens);
    const model::ContinuationBatch cb = model::make_continuation_batch(items);
    model::ForwardOptions opts;
    opts.attention_mask = cb.batch.mask;
    const at::Tensor logits = model.forward(cb.batch.ids, opts);
    const int64_t T = cb.batch.ids.size(1);
    // Row ok when every target position predicts its token: wrong & target = none.
    const at::Tensor predicted = logits.narrow(1, 0, T - 1).argmax(-1).cpu();  // beside the host ids
    const at::Tensor wrong =
        predicted.ne(cb.batch.ids.narrow(1, 1, T - 1)).logical_and(cb.target_mask.to(at::kBool));
    const at::Tensor row_ok = wrong.any(1).logical_not().contiguous();
    const bool* ok = row_ok.data_ptr<bool>();
    for (size_t i = begin; i < end; ++i) {
      const bool hit = ok[i - begin];
      ++report.probes;
      if (hit) ++report.probes_recalled;
      auto [it, inserted] = fact_ok.emplace(probes[i].fact, hit);
      if (!inserted) it->second = it->second && hit;
    }
  }
  report.facts = static_cast<int64_t>(fact_ok.size());
  for (const auto& [fact, ok] : fact_ok) report.facts_recalled += ok ? 1 : 0;
  return report;
}

}  // namespace revive::train
