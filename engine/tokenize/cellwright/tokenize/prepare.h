#pragma once
// From a dataset to tokenizer input: counts aligned to a model's gene vocabulary, labels and
// studies coded per cell. The tokenizers normalise counts per cell on the fly; a dataset
// without raw counts is used as already log-normalised.
#include <memory>
#include <string>
#include <vector>

#include "cellwright/io/dataset.h"
#include "cellwright/preprocess/vocabulary.h"
#include "cellwright/tokenize/cell_source.h"

namespace cw::tokenize {

struct PrepareOptions {
  std::string labelColumn;           // obs column of class labels ("" = none)
  std::vector<std::string> classes;  // class order; empty = the column's sorted values
  std::string studyColumn;           // obs column of studies / batches ("" = none)
  std::vector<std::string> studies;  // study order; empty = the column's sorted values
  int64_t datasetIndex = 0;
};

struct PreparedCells {
  CsrMatrix matrix;  // cells × vocabulary genes
  CellSource source; // reads `matrix`: keep PreparedCells where it is (held by unique_ptr)
  preprocess::AlignmentResult alignment;
  std::vector<std::string> classes, studies;
  int64_t unknownLabels = 0;   // cells whose label is missing or not among `classes` (code -1)
  int64_t unknownStudies = 0;
};

std::unique_ptr<PreparedCells> prepareCells(const Dataset& dataset, const preprocess::GeneVocabulary& vocabulary,
                                            const PrepareOptions& options = {});

}  // namespace cw::tokenize
