// prepareCells: alignment to the vocabulary, counts vs normalised data, label coding.
#include <gtest/gtest.h>

#include "cellwright/core/errors.h"
#include "cellwright/tokenize/prepare.h"
#include "cellwright/tokenize/tokenizers.h"

namespace cw::tokenize {
namespace {

Dataset smallDataset() {
  Dataset d;
  d.X.rows = 3;
  d.X.cols = 3;
  d.X.indptr = {0, 2, 3, 4};
  d.X.indices = {0, 2, 1, 2};
  d.X.data = {1, 3, 2, 5};
  d.var.index = {"CD3E", "FOO", "MS4A1"};
  d.obs.index = {"a", "b", "c"};
  d.obs.set("cell_type", Column::categorical({1, 0, -1}, {"B", "T"}));
  d.obs.set("study", Column::text({"s2", "s1", "s1"}));
  return d;
}

TEST(PrepareCells, AlignsCountsAndCodesLabels) {
  const preprocess::GeneVocabulary v({"MS4A1", "CD3E", "CD4"});
  PrepareOptions o;
  o.labelColumn = "cell_type";
  o.studyColumn = "study";
  const auto p = prepareCells(smallDataset(), v, o);
  EXPECT_EQ(p->matrix.cols, 3);
  // cell0: CD3E 1 -> column 1, MS4A1 3 -> column 0; cell1 only FOO (unknown) -> empty.
  EXPECT_EQ(p->matrix.indptr, (std::vector<int64_t>{0, 2, 2, 3}));
  EXPECT_EQ(p->matrix.indices, (std::vector<int32_t>{0, 1, 0}));
  EXPECT_EQ(p->matrix.data, (std::vector<float>{3, 1, 5}));
  EXPECT_FALSE(p->source.valuesAreLogNormalized);
  EXPECT_EQ(p->alignment.unknown, 1);
  EXPECT_EQ(p->classes, (std::vector<std::string>{"B", "T"}));
  EXPECT_EQ(p->source.labels, (std::vector<int64_t>{1, 0, -1}));
  EXPECT_EQ(p->unknownLabels, 1);
  EXPECT_EQ(p->source.studies, (std::vector<int64_t>{1, 0, 0}));

  // Given class order (from a trained model) is kept.
  o.classes = {"T", "B", "NK"};
  const auto q = prepareCells(smallDataset(), v, o);
  EXPECT_EQ(q->source.labels, (std::vector<int64_t>{0, 1, -1}));

  DenseOptions dense;
  dense.nGenes = 3;
  const TokenBatch t = collateDense({{&q->source, 0}}, dense);
  EXPECT_GT(t.dense[0][0].item<float>(), t.dense[0][1].item<float>());  // MS4A1 3 > CD3E 1
}

TEST(PrepareCells, NormalisedDataAndNoSharedGenes) {
  Dataset d = smallDataset();
  d.X.data[0] = 0.5f;  // not counts: used as log-normalised values
  const auto p = prepareCells(d, preprocess::GeneVocabulary({"CD3E"}));
  EXPECT_TRUE(p->source.valuesAreLogNormalized);
  EXPECT_THROW(prepareCells(d, preprocess::GeneVocabulary({"GAPDH"})), Error);
  PrepareOptions o;
  o.labelColumn = "no_such";
  EXPECT_THROW(prepareCells(d, preprocess::GeneVocabulary({"CD3E"}), o), Error);
}

}  // namespace
}  // namespace cw::tokenize
