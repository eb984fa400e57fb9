#include "lib/train/toy_trainer.h"

#include <ATen/ATen.h>
#include <torch/nn/utils/clip_grad.h>
#include <torch/optim/adamw.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <optional>
#include <ostream>

#include "lib/data/wordlevel_tokenizer.h"
#include "lib/model/batching.h"
#include "lib/model/log_probs.h"
#include "lib/model/tokenizer.h"
#include "sharding/errors.h"

namespace revive::train {

namespace {

void toy_train_require(bool ok, const std::string& option, const std::string& what) {
  if (!ok) throw Error("toy training: " + option + " " + what);
}

// splitmix64 with a Fisher-Yates shuffle: the data order is the same on every
// platform and LibTorch version.
class ToyTrainRng {
 public:
  explicit ToyTrainRng(uint64_t seed) : state_(seed * 0x9E3779B97F4A7C15ull + 0x5851F42D4C957F2Dull) {}
  uint64_t next() {
    uint64_t z = (state_ += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  size_t below(size_t n) {
    const uint64_t limit = UINT64_MAX - UINT64_MAX % n;
    uint64_t x;
    do {
      x = next();
    } while (x >= limit);
    return static_cast<size_t>(x % n);
  }
  void shuffle(std::vector<size_t>& v) {
    for (size_t i = v.size(); i > 1; --i) std::swap(v[i - 1], v[below(i)]);
  }

 private:
  uint64_t state_;
};

int64_t toy_train_special(std::optional<int64_t> id, const char* what) {
  if (!id) throw Error(std::string("toy training: the tokenizer has no ") + what + " token");
  return *id;
}

double toy_train_lr(const ToyTrainOptions& o, int64_t step) {
  if (step < o.warmup_steps)
    return o.learning_rate * static_cast<double>(step + 1) / static_cast<double>(o.warmup_steps);
  const double span = static_cast<double>(std::max<int64_t>(1, o.max_steps - o.warmup_steps));
  const double progress = std::min(1.0, static_cast<double>(step - o.warmup_steps) / span);
  const double cosine = 0.5 * (1.0 + std::cos(3.14159265358979323846 * progress));
  return o.learning_rate * (o.min_lr_ratio + (1.0 - o.min_lr_ratio) * cosine);
}

std::string toy_train_fmt(const char* format, double a) {
  char buf[64];
  std::snprintf(buf, sizeof buf, format, a);
  return buf;
}

}  // namespace

void validate(const ToyTrainOptions& o) {
  toy_train_require(o.max_steps > 0, "max_steps", "must be positive");
  toy_train_require(o.batch_size > 0, "batch_size", "must be positive");
  toy_train_require(o.learning_rate > 0 && std::isfinite(o.learning_rate), "learning_rate",
                    "must be positive");
  toy_train_require(o.min_lr_ratio >= 0 && o.min_lr_ratio <= 1, "min_lr_ratio", "must be in [0, 1]");
  toy_train_require(o.warmup_steps >= 0, "warmup_steps", "must not be negative");
  toy_train_require(o.weight_decay >= 0, "weight_decay", "must not be negative");
  toy_train_require(o.beta1 >= 0 && o.beta1 < 1 && o.beta2 >= 0 && o.beta2 < 1, "beta1/beta2",
                    "must be in [0, 1)");
  toy_train_require(o.grad_clip >= 0, "grad_clip", "must not be negative");
  toy_train_require(o.target_recall > 0 && o.target_recall <= 1, "target_recall", "must be in (0, 1]");
  toy_train_require(o.eval_batch_size > 0, "eval_batch_size", "must be positive");
  toy_train_require(o.log_every >= 0, "log_every", "must not be negative");
}

ToyTrainResult train_toy_model(const data::ToyWorld& world, const model::Tokenizer& tokenizer,
                               const ToyModelOptions& model_options, const ToyTrainOptions& o,
                               sharding::Communicator& tp, std::ostream* progress) {
  validate(model_options);
  validate(o);
  const auto t0 = std::chrono::steady_clock::now();
  const auto elapsed = [&] {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  };

  ToySpecialTokens special;
  special.bos = toy_train_special(tokenizer.bos_id(), "[BOS]");
  special.eos = toy_train_special(tokenizer.eos_id(), "[EOS]");
  special.pad = toy_train_special(tokenizer.pad_id(), "[PAD]");
  const std::optional<int64_t> unk = tokenizer.token_to_id(data::kUnkToken);

  // Training sentences: [BOS] words... object [EOS]; the object's position.
  const std::vector<std::string>& lines = world.training_lines();
  toy_train_require(!lines.empty(), "world", "has no training text");
  std::vector<std::vector<int64_t>> seqs;
  std::vector<int64_t> object_pos;
  seqs.reserve(lines.size());
  int64_t longest = 0;
  for (size_t i = 0; i < lines.size(); ++i) {
    std::vector<int64_t> ids = tokenizer.encode(lines[i], /*add_special=*/true);
    if (ids.size() < 2 || ids.front() != special.bos) {
      throw Error("toy training: the tokenizer does not prepend [BOS] to training line " +
                  std::to_string(i + 1));
    }
    for (int64_t id : ids) {
      if (unk && id == *unk) {
        throw Error("toy training: training line " + std::to_string(i + 1) + " ('" + lines[i] +
                    "') has a word the tokenizer does not know; was the tokenizer written for this world?");
      }
    }
    object_pos.push_back(static_cast<int64_t>(ids.size()) - 1);
    if (o.append_eos) ids.push_back(special.eos);
    longest = std::max<int64_t>(longest, static_cast<int64_t>(ids.size()));
    seqs.push_back(std::move(ids));
  }
  if (longest > model_options.max_positions) {
    throw Error("toy training: a training sentence has " + std::to_string(longest) +
                " tokens, more than max_positions " + std::to_string(model_options.max_positions));
  }
  const std::vector<FactProbe> probes = make_fact_probes(world, tokenizer);

  ToyTrainResult result;
  result.model = std::make_unique<TrainableLlama>(
      toy_llama_config(model_options, tokenizer.vocab_size(), special), o.seed, tp);
  TrainableLlama& net = *result.model;
  ToyTrainStats& stats = result.stats;
  stats.num_parameters = net.num_parameters();
  stats.training_sentences = static_cast<int64_t>(seqs.size());

  std::vector<at::Tensor> decay, no_decay, all;
  for (const auto& [name, t] : net.named_parameters()) {
    (t.dim() >= 2 ? decay : no_decay).push_back(t);
    all.push_back(t);
  }
  auto group_options = [&](double wd) {
    auto opts = std::make_unique<torch::optim::AdamWOptions>(o.learning_rate);
    opts->betas(std::make_tuple(o.beta1, o.beta2)).weight_decay(wd).eps(1e-8);
    return opts;
  };
  std::vector<torch::optim::OptimizerParamGroup> groups;
  groups.emplace_back(decay, group_options(o.weight_decay));
  groups.emplace_back(no_decay, group_options(0.0));
  torch::optim::AdamW optimizer(std::move(groups), torch::optim::AdamWOptions(o.learning_rate));

  ToyTrainRng rng(o.seed);
  std::vector<size_t> order(seqs.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  rng.shuffle(order);
  size_t cursor = 0;

  // Latest top-1 verdict on each sentence's object, from the training forwards.
  std::vector<char> object_hit(seqs.size(), 0);
  int64_t hits = 0;
  const int64_t steps_per_epoch = (static_cast<int64_t>(seqs.size()) + o.batch_size - 1) / o.batch_size;
  int64_t last_check = -steps_per_epoch;  // step of the last full recall measurement
  double window_loss = 0, window_object_loss = 0;
  int64_t window_steps = 0;

  if (progress) {
    *progress << "train-toy: " << world.facts().size() << " facts, " << seqs.size() << " sentences, "
              << stats.num_parameters << " parameters, batch " << o.batch_size << ", " << steps_per_epoch
              << " steps per epoch, at most " << o.max_steps << " steps" << std::endl;
  }

  for (int64_t step = 0; step < o.max_steps; ++step) {
    std::vector<std::vector<int64_t>> batch_seqs;
    std::vector<size_t> rows;
    for (int64_t b = 0; b < o.batch_size && b < static_cast<int64_t>(seqs.size()); ++b) {
      if (cursor == order.size()) {
        rng.shuffle(order);
        cursor = 0;
      }
      rows.push_back(order[cursor]);
      batch_seqs.push_back(seqs[order[cursor]]);
      ++cursor;
    }
    const double lr = toy_train_lr(o, step);
    for (auto& g : optimizer.param_groups()) static_cast<torch::optim::AdamWOptions&>(g.options()).lr(lr);

    const model::PaddedBatch batch = model::pad_right(batch_seqs, special.pad);
    model::ForwardOptions fwd;
    fwd.attention_mask = batch.mask;
    const at::Tensor logits = net.model().forward(batch.ids, fwd);
    const int64_t B = batch.ids.size(0), T = batch.ids.size(1);
    const at::Tensor nll = model::next_token_nll(logits, batch.ids);  // [B, T-1]
    const at::Tensor weight = batch.mask.narrow(1, 1, T - 1).to(nll.scalar_type());
    const at::Tensor loss = (nll * weight).sum() / weight.sum();

    optimizer.zero_grad();
    loss.backward();
    if (o.grad_clip > 0) torch::nn::utils::clip_grad_norm_(all, o.grad_clip);
    optimizer.step();

    // The object of row b is predicted at position object_pos - 1.
    {
      at::NoGradGuard no_grad;
      std::vector<int64_t> pred_pos(static_cast<size_t>(B));
      for (int64_t b = 0; b < B; ++b)
        pred_pos[static_cast<size_t>(b)] = object_pos[rows[static_cast<size_t>(b)]] - 1;
      const at::Tensor pos = at::tensor(pred_pos, at::kLong);
      const at::Tensor row_index = at::arange(B, at::kLong);
      const at::Tensor at_object = logits.detach().index({row_index, pos});  // [B, V]
      const at::Tensor object_ids = batch.ids.index({row_index, pos + 1});
      const at::Tensor hit = at_object.argmax(-1).eq(object_ids).contiguous();
      const at::Tensor obj_nll = nll.detach().index({row_index, pos});
      window_object_loss += obj_nll.mean().item<double>();
      const bool* h = hit.data_ptr<bool>();
      for (int64_t b = 0; b < B; ++b) {
        char& slot = object_hit[rows[static_cast<size_t>(b)]];
        hits += static_cast<int64_t>(h[b]) - static_cast<int64_t>(slot);
        slot = static_cast<char>(h[b]);
      }
    }
    window_loss += loss.item<double>();
    ++window_steps;
    stats.steps = step + 1;

    const double running = static_cast<double>(hits) / static_cast<double>(seqs.size());
    const bool log_now = o.log_every > 0 && (stats.steps % o.log_every == 0);
    if (log_now || stats.steps == o.max_steps) {
      stats.final_loss = window_loss / static_cast<double>(window_steps);
      stats.object_loss = window_object_loss / static_cast<double>(window_steps);
      if (progress && log_now) {
        *progress << "train-toy: step " << stats.steps << "  loss " << toy_train_fmt("%.4f", stats.final_loss)
                  << "  object loss " << toy_train_fmt("%.4f", stats.object_loss) << "  running recall "
                  << toy_train_fmt("%.3f", running) << "  lr " << toy_train_fmt("%.2e", lr) << "  "
                  << toy_train_fmt("%.1f", elapsed()) << " s" << std::endl;
      }
      window_loss = window_object_loss = 0;
      window_steps = 0;
    }
    // Full measurement when the running estimate says the target may be near
    // (it lags: it counts each sentence as of its last visit), at most four
    // times per epoch, and at the end.
    const bool due =
        running >= o.target_recall - 0.05 && step - last_check >= std::max<int64_t>(1, steps_per_epoch / 4);
    if (due || stats.steps == o.max_steps) {
      last_check = step;
      stats.recall = measure_fact_recall(net.model(), probes, o.eval_batch_size);
      if (progress) {
        *progress << "train-toy: step " << stats.steps << "  recall "
                  << toy_train_fmt("%.4f", stats.recall.recall()) << " of " << stats.recall.probes
                  << " prompts, " << toy_train_fmt("%.4f", stats.recall.fact_recall())
                  << " of facts in every phrasing  " << toy_train_fmt("%.1f", elapsed()) << " s" << std::endl;
      }
      if (stats.recall.recall() >= o.target_recall) {
        stats.reached_target = true;
        break;
      }
    }
  }
  if (window_steps > 0) {
    stats.final_loss = window_loss / static_cast<double>(window_steps);
    stats.object_loss = window_object_loss / static_cast<double>(window_steps);
  }
  stats.seconds = elapsed();
  return result;
}

}  // namespace revive::train
