// Gene vocabularies: matching rules, save/load, building and aligning datasets.
#include <gtest/gtest.h>

#include <filesystem>

#include "cellwright/core/errors.h"
#include "cellwright/preprocess/vocabulary.h"

namespace cw::preprocess {
namespace {

Dataset datasetWithGenes(std::vector<std::string> names, std::vector<std::string> ids = {}) {
  Dataset d;
  d.var.index = std::move(names);
  if (!ids.empty()) d.var.set("gene_ids", Column::text(std::move(ids)));
  d.X.rows = 0;
  d.X.cols = static_cast<int64_t>(d.var.index.size());
  return d;
}

TEST(Vocabulary, EnsemblVersionsAndSymbolCase) {
  EXPECT_EQ(stripEnsemblVersion("ENSG00000141510.16"), "ENSG00000141510");
  EXPECT_EQ(stripEnsemblVersion("ENSMUSG00000059552"), "ENSMUSG00000059552");
  EXPECT_EQ(stripEnsemblVersion("CD3E.1"), "CD3E.1");  // a symbol keeps its suffix
  const GeneVocabulary v({"CD3E", "ENSG00000141510", "MS4A1"});
  EXPECT_EQ(v.find("CD3E"), 0);
  EXPECT_EQ(v.find("cd3e"), 0);
  EXPECT_EQ(v.find("ENSG00000141510.16"), 1);
  EXPECT_EQ(v.find("Ms4a1"), 2);
  EXPECT_EQ(v.find("CD4"), -1);
  EXPECT_THROW(GeneVocabulary({"A", "A"}), Error);
}

TEST(Vocabulary, SaveAndLoadKeepsOrder) {
  const auto path = std::filesystem::temp_directory_path() / "cw_vocab_test_genes.txt";
  GeneVocabulary({"B", "A", "C"}).save(path);
  const GeneVocabulary back = GeneVocabulary::load(path);
  EXPECT_EQ(back.genes(), (std::vector<std::string>{"B", "A", "C"}));
  std::filesystem::remove(path);
  EXPECT_THROW(GeneVocabulary::load(path), Error);
}

TEST(Vocabulary, BuildUnionWithoutDuplicatesAcrossNames) {
  const Dataset a = datasetWithGenes({"CD3E", "MS4A1"}, {"ENSG00000198851", "ENSG00000156738"});
  // Second dataset indexed by versioned Ensembl IDs, one new gene.
  const Dataset b = datasetWithGenes({"ENSG00000156738.17", "ENSG00000010610.9"});
  const GeneVocabulary v = buildVocabulary({&a, &b});
  EXPECT_EQ(v.genes(), (std::vector<std::string>{"CD3E", "MS4A1", "ENSG00000010610.9"}));
}

TEST(Vocabulary, AlignCountsMissingAndUnknown) {
  // Data: cd3e (case), an unknown gene, MS4A1 through its Ensembl ID in gene_ids.
  Dataset d = datasetWithGenes({"cd3e", "FOO", "MS4A1-alias"}, {"", "", "ENSG00000156738"});
  const GeneVocabulary withId({"CD3E", "ENSG00000156738", "CD4"});
  const AlignmentResult r = alignToVocabulary(d, withId);
  EXPECT_EQ(r.datasetToVocabulary, (std::vector<int64_t>{0, -1, 1}));
  EXPECT_EQ(r.vocabularyToDataset, (std::vector<int64_t>{0, 2, -1}));
  EXPECT_EQ(r.matched, 2);
  EXPECT_EQ(r.missing, 1);
  EXPECT_EQ(r.unknown, 1);
  EXPECT_EQ(r.unknownExamples, (std::vector<std::string>{"FOO"}));
  EXPECT_NE(r.summary().find("FOO"), std::string::npos);

  // Cells × 3 data genes -> cells × 3 vocabulary genes (CD4 all zero, FOO dropped).
  CsrMatrix x;
  x.rows = 2;
  x.cols = 3;
  x.indptr = {0, 3, 4};
  x.indices = {0, 1, 2, 1};
  x.data = {1, 2, 3, 4};
  const CsrMatrix aligned = alignMatrix(x, r);
  EXPECT_EQ(aligned.cols, 3);
  EXPECT_EQ(aligned.indptr, (std::vector<int64_t>{0, 2, 2}));
  EXPECT_EQ(aligned.indices, (std::vector<int32_t>{0, 1}));
  EXPECT_EQ(aligned.data, (std::vector<float>{1, 3}));
}

}  // namespace
}  // namespace cw::preprocess
