#include "cellwright/tokenize/prepare.h"

#include <algorithm>
#include <map>
#include <set>

#include "cellwright/core/errors.h"

namespace cw::tokenize {
namespace {

// Codes of an obs column against `order` (filled from the column's values when empty).
std::vector<int64_t> codeColumn(const Dataset& d, const std::string& column, std::vector<std::string>& order,
                                int64_t& unknown) {
  if (!d.obs.has(column)) throw Error("the data has no obs column '" + column + "'");
  const Column& c = d.obs.at(column);
  if (order.empty()) {
    std::set<std::string> values;
    for (size_t i = 0; i < c.size(); ++i)
      if (auto v = c.valueAsString(i); !v.empty()) values.insert(v);
    order.assign(values.begin(), values.end());
  }
  std::map<std::string, int64_t> index;
  for (size_t i = 0; i < order.size(); ++i) index.emplace(order[i], static_cast<int64_t>(i));
  std::vector<int64_t> codes(c.size(), -1);
  for (size_t i = 0; i < c.size(); ++i) {
    auto it = index.find(c.valueAsString(i));
    if (it == index.end()) ++unknown;
    else codes[i] = it->second;
  }
  return codes;
}

}  // namespace

std::unique_ptr<PreparedCells> prepareCells(const Dataset& dataset, const preprocess::GeneVocabulary& vocabulary,
                                            const PrepareOptions& options) {
  auto p = std::make_unique<PreparedCells>();
  p->alignment = preprocess::alignToVocabulary(dataset, vocabulary);
  if (p->alignment.matched == 0)
    throw Error("none of the model's " + std::to_string(vocabulary.size()) + " genes is in the data (" +
                p->alignment.summary() + ")");
  CountsSource source = dataset.countsSource;
  if (source == CountsSource::None) source = detectCountsSource(dataset);
  const CsrMatrix* counts = nullptr;
  if (source == CountsSource::X) counts = &dataset.X;
  else if (source == CountsSource::LayersCounts) counts = &dataset.layers.at("counts");
  else if (source == CountsSource::RawX && dataset.raw && dataset.raw->var.index == dataset.var.index)
    counts = &dataset.raw->X;
  p->matrix = preprocess::alignMatrix(counts ? *counts : dataset.X, p->alignment);
  p->source.matrix = &p->matrix;
  p->source.valuesAreLogNormalized = counts == nullptr;
  p->source.datasetIndex = options.datasetIndex;
  p->classes = options.classes;
  p->studies = options.studies;
  if (!options.labelColumn.empty())
    p->source.labels = codeColumn(dataset, options.labelColumn, p->classes, p->unknownLabels);
  if (!options.studyColumn.empty())
    p->source.studies = codeColumn(dataset, options.studyColumn, p->studies, p->unknownStudies);
  return p;
}

}  // namespace cw::tokenize
