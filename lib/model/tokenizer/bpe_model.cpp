#include "lib/model/tokenizer/bpe_model.h"

#include <cstdio>
#include <queue>

#include "lib/model/tokenizer/json_node.h"
#include "sharding/utf8.h"
#include "sharding/errors.h"

namespace revive::model::tokenizer {

using sharding::utf8_char_len;

namespace {
std::string bpe_optional_string(const JsonNode& node, const std::string& key) {
  JsonNode child = node.at(key);
  return child.is_null() ? std::string() : child.str();
}
}  // namespace

BpeModel::BpeModel(const JsonNode& node) : vocab_(Vocab::from_json(node.require("vocab"))) {
  JsonNode dropout = node.at("dropout");
  if (!dropout.is_null() && dropout.number() != 0.0) {
    dropout.fail("BPE dropout is a training-time option and is not supported");
  }
  if (node.has("unk_token")) {
    unk_token_ = node.at("unk_token").str();
    unk_id_ = vocab_.id(*unk_token_);  // checked when first needed, as HF does
  }
  continuing_subword_prefix_ = bpe_optional_string(node, "continuing_subword_prefix");
  end_of_word_suffix_ = bpe_optional_string(node, "end_of_word_suffix");
  fuse_unk_ = node.bool_or("fuse_unk", false);
  byte_fallback_ = node.bool_or("byte_fallback", false);
  ignore_merges_ = node.bool_or("ignore_merges", false);
  for (int b = 0; b < 256; ++b) {
    char name[8];
    std::snprintf(name, sizeof(name), "<0x%02X>", b);
    byte_ids_[b] = vocab_.id(name).value_or(-1);
  }

  JsonNode merges = node.require("merges");
  if (!merges.is_array()) merges.fail("expected an array of merges");
  const size_t n = merges.size();
  merges_.reserve(n);
  for (size_t rank = 0; rank < n; ++rank) {
    JsonNode m = merges.index(rank);
    std::string a, b;
    if (m.is_string()) {
      // "a b": exactly one space, as HF requires.
      const std::string line = m.str();
      size_t space = line.find(' ');
      if (space == std::string::npos || line.find(' ', space + 1) != std::string::npos) {
        m.fail("merge must be two tokens separated by one space");
      }
      a = line.substr(0, space);
      b = line.substr(space + 1);
    } else if (m.is_array()) {
      if (m.size() != 2) m.fail("merge pair must have two entries");
      a = m.index(0).str();
      b = m.index(1).str();
    } else {
      m.fail("merge must be a string \"a b\" or a pair [a, b]");
    }
    auto a_id = vocab_.id(a), b_id = vocab_.id(b);
    if (!a_id) m.fail("merge token '" + a + "' is not in model.vocab");
    if (!b_id) m.fail("merge token '" + b + "' is not in model.vocab");
    std::string b_tail = b;
    if (!continuing_subword_prefix_.empty() &&
        b.compare(0, continuing_subword_prefix_.size(), continuing_subword_prefix_) == 0) {
      b_tail = b.substr(continuing_subword_prefix_.size());
    }
    auto new_id = vocab_.id(a + b_tail);
    if (!new_id) m.fail("merged token '" + a + b_tail + "' is not in model.vocab");
    // A repeated pair keeps its last rank, as HF's map construction does.
    merges_[pair_key(*a_id, *b_id)] = Merge{static_cast<int64_t>(rank), *new_id};
  }
}

std::optional<BpeModel::Merge> BpeModel::find_merge(int64_t a, int64_t b) const {
  auto it = merges_.find(pair_key(a, b));
  if (it == merges_.end()) return std::nullopt;
  return it->second;
}

void BpeModel::merge_all(std::vector<int64_t>& ids) const {
  const int n = static_cast<int>(ids.size());
  if (n < 2) return;
  struct Symbol {
    int64_t id;
    int prev, next;
    bool alive;
  };
  std::vector<Symbol> sym(n);
  for (int i = 0; i < n; ++i) sym[i] = {ids[i], i - 1, i + 1 < n ? i + 1 : -1, true};

  struct Candidate {
    int64_t rank;
    int pos;
    int64_t new_id;
    // Min-heap on (rank, position): the lowest rank first, leftmost on ties.
    bool operator<(const Candidate& o) const {
      return rank != o.rank ? rank > o.rank : pos > o.pos;
    }
  };
  std::priority_queue<Candidate> queue;
  for (int i = 0; i + 1 < n; ++i) {
    if (auto m = find_merge(sym[i].id, sym[i + 1].id)) queue.push({m->rank, i, m->new_id});
  }
  while (!queue.empty()) {
    Candidate top = queue.top();
    queue.pop();
    Symbol& left = sym[top.pos];
    if (!left.alive || left.next < 0) continue;
    Symbol& right = sym[left.next];
    // Stale entry: the pair at this position changed since it was queued.
    auto current = find_merge(left.id, right.id);
    if (!current || current->new_id != top.new_id) continue;
    left.id = top.new_id;
    right.alive = false;
    left.next = right.next;
    if (left.next >= 0) sym[left.next].prev = top.pos;
    if (left.prev >= 0) {
      if (auto m = find_merge(sym[left.prev].id, left.id)) queue.push({m->rank, left.prev, m->new_id});
    }
    if (left.next >= 0) {
      if (auto m = find_merge(left.id, sym[left.next].id)) queue.push({m->rank, top.pos, m->new_id});
    }
  }
  ids.clear();
  for (int i = 0; i >= 0; i = sym[i].next) ids.push_back(sym[i].id);
}

void BpeModel::tokenize(const std::string& piece, std::vector<int64_t>& out) const {
  if (piece.empty()) return;
  if (ignore_merges_) {
    if (auto id = vocab_.id(piece)) {
      out.push_back(*id);
      return;
    }
  }
  std::vector<int64_t> ids;
  std::optional<int64_t> pending_unk;  // fused run of unknown characters
  const auto unk_id = [&]() -> int64_t {
    if (!unk_id_) throw Error("tokenizer: BPE unk_token '" + *unk_token_ + "' is not in the vocabulary");
    return *unk_id_;
  };
  for (size_t pos = 0; pos < piece.size();) {
    size_t len = utf8_char_len(piece, pos);
    std::string s = piece.substr(pos, len);
    if (pos > 0) s = continuing_subword_prefix_ + s;
    pos += len;
    if (pos == piece.size()) s += end_of_word_suffix_;
    if (auto id = vocab_.id(s)) {
      if (pending_unk) ids.push_back(*pending_unk), pending_unk.reset();
      ids.push_back(*id);
      continue;
    }
    if (byte_fallback_) {
      bool all = true;
      for (unsigned char b : s) all = all && byte_ids_[b] >= 0;
      if (all) {
        // HF emits the bytes before flushing a pending unk; kept for identical ids.
        for (unsigned char b : s) ids.push_back(byte_ids_[b]);
        continue;
      }
    }
    if (unk_token_) {
      if (pending_unk && !fuse_unk_) ids.push_back(*pending_unk);
      pending_unk = unk_id();
    }
    // Without an unk token an unknown character is dropped (HF behaviour).
  }
  if (pending_unk) ids.push_back(*pending_unk);
  merge_all(ids);
  out.insert(out.end(), ids.begin(), ids.end());
}

}  // namespace revive::model::tokenizer
