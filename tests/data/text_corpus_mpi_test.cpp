// Corpus sharding over real ranks: the union of every rank's shard is exactly the
// single-process document list, each document on one rank, in the documented split.
#include <gtest/gtest.h>

#include "lib/data/text_corpus.h"
#include "tests/data/write_text.h"
#include "tests/support/fixtures.h"
#include "tests/support/test_world.h"

namespace revive::data {
namespace {

TEST(TextCorpusMpi, ShardsCoverTheSingleProcessCorpusOnce) {
  auto& world = revive::testing::world();
  // Every rank writes the same corpus to its own folder.
  std::string content;
  for (int i = 0; i < 37; ++i) content += "story " + std::to_string(i) + " <|endoftext|>";
  const std::string file =
      revive::data::testing::write_text(revive::testing::temp_dir("corpus-mpi"), "c.txt", content);
  const std::vector<Document> all = read_documents(file);
  ASSERT_EQ(all.size(), 37u);

  for (ShardMode mode : {ShardMode::kStrided, ShardMode::kContiguous}) {
    const auto mine = read_documents(file, {}, CorpusShard{world.rank(), world.size(), mode});
    at::Tensor held = at::zeros({static_cast<int64_t>(all.size())}, at::kLong);
    for (const Document& d : mine) {
      ASSERT_LT(d.index, all.size());
      EXPECT_EQ(d.text, all[d.index].text);
      held[static_cast<int64_t>(d.index)] += 1;
    }
    world.all_reduce(held);
    EXPECT_TRUE(held.eq(1).all().item<bool>()) << "each document on exactly one rank";

    at::Tensor count = at::full({1}, static_cast<int64_t>(mine.size()), at::kLong);
    const at::Tensor counts = world.all_gather(count);
    for (int r = 0; r < world.size(); ++r) {
      const int64_t expected = 37 / world.size() + (r < 37 % world.size() ? 1 : 0);
      EXPECT_EQ(counts[r].item<int64_t>(), expected);  // both modes are balanced
    }
  }
}

}  // namespace
}  // namespace revive::data
