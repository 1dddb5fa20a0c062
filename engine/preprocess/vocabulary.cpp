#include "cellwright/preprocess/vocabulary.h"

#include <algorithm>
#include <cctype>
#include <fstream>
#include <sstream>
#include <unordered_set>

#include "cellwright/core/atomic_file.h"
#include "cellwright/core/errors.h"
#include "cellwright/core/strings.h"

namespace cw::preprocess {

bool looksLikeEnsemblId(const std::string& name) {
  // ENSG00000141510, ENSMUSG00000059552, with an optional ".N" version.
  if (name.size() < 8 || name.compare(0, 3, "ENS") != 0) return false;
  size_t i = 3;
  while (i < name.size() && std::isupper(static_cast<unsigned char>(name[i]))) ++i;
  const size_t digitsStart = i;
  while (i < name.size() && std::isdigit(static_cast<unsigned char>(name[i]))) ++i;
  if (i - digitsStart < 5) return false;
  if (i == name.size()) return true;
  if (name[i] != '.') return false;
  ++i;
  const size_t versionStart = i;
  while (i < name.size() && std::isdigit(static_cast<unsigned char>(name[i]))) ++i;
  return i == name.size() && i > versionStart;
}

std::string stripEnsemblVersion(const std::string& name) {
  if (!looksLikeEnsemblId(name)) return name;
  const auto dot = name.find('.');
  return dot == std::string::npos ? name : name.substr(0, dot);
}

GeneVocabulary::GeneVocabulary(std::vector<std::string> genes) : genes_(std::move(genes)) {
  for (int64_t i = 0; i < size(); ++i) {
    const std::string& g = genes_[i];
    if (g.empty()) throw Error("gene vocabulary: gene " + std::to_string(i + 1) + " has an empty name");
    if (!exact_.emplace(g, i).second) throw Error("gene vocabulary: '" + g + "' appears twice");
    if (looksLikeEnsemblId(g)) ensembl_.emplace(stripEnsemblVersion(g), i);
    lowerSymbol_.emplace(toLower(g), i);  // first one wins for case variants
  }
}

int64_t GeneVocabulary::find(const std::string& name) const {
  if (auto it = exact_.find(name); it != exact_.end()) return it->second;
  if (looksLikeEnsemblId(name)) {
    auto it = ensembl_.find(stripEnsemblVersion(name));
    return it == ensembl_.end() ? -1 : it->second;
  }
  auto it = lowerSymbol_.find(toLower(name));
  return it == lowerSymbol_.end() ? -1 : it->second;
}

void GeneVocabulary::save(const std::filesystem::path& path) const {
  std::ostringstream out;
  for (const auto& g : genes_) out << g << '\n';
  writeTextAtomically(path, out.str());
}

GeneVocabulary GeneVocabulary::load(const std::filesystem::path& path) {
  std::ifstream in(path);
  if (!in) throw Error("cannot read the gene list " + path.string());
  std::vector<std::string> genes;
  std::string line;
  while (std::getline(in, line)) {
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ' || line.back() == '\t')) line.pop_back();
    if (!line.empty()) genes.push_back(line);
  }
  if (genes.empty()) throw Error("the gene list " + path.string() + " is empty");
  try {
    return GeneVocabulary(std::move(genes));
  } catch (const Error& e) {
    throw Error(withContext(path.string(), e.what()));
  }
}

std::vector<std::vector<std::string>> geneNameCandidates(const Dataset& dataset) {
  const size_t n = dataset.var.size();
  std::vector<std::vector<std::string>> names(n);
  for (size_t g = 0; g < n; ++g) names[g].push_back(dataset.var.index[g]);
  for (const char* column : {"gene_ids", "feature_name", "gene_symbols"}) {
    if (!dataset.var.has(column)) continue;
    const Column& c = dataset.var.at(column);
    if (c.size() != n) continue;
    for (size_t g = 0; g < n; ++g) {
      std::string v = c.valueAsString(g);
      if (!v.empty() && v != names[g][0]) names[g].push_back(std::move(v));
    }
  }
  return names;
}

GeneVocabulary buildVocabulary(const std::vector<const Dataset*>& datasets, const VocabularyBuildOptions& options) {
  std::vector<std::string> genes;
  std::vector<int64_t> cellsExpressing;
  std::unordered_map<std::string, int64_t> byKey;  // every candidate key -> gene slot
  auto keysOf = [](const std::string& name) {
    std::vector<std::string> keys{name};
    if (looksLikeEnsemblId(name)) keys.push_back("ens:" + stripEnsemblVersion(name));
    else keys.push_back("sym:" + toLower(name));
    return keys;
  };
  for (const Dataset* d : datasets) {
    const auto candidates = geneNameCandidates(*d);
    const bool useIds = options.preferGeneIds && d->var.has("gene_ids");
    std::vector<int64_t> slotOfColumn(candidates.size(), -1);
    for (size_t g = 0; g < candidates.size(); ++g) {
      int64_t slot = -1;
      for (const auto& name : candidates[g])
        for (const auto& key : keysOf(name))
          if (slot < 0)
            if (auto it = byKey.find(key); it != byKey.end()) slot = it->second;
      if (slot < 0) {
        slot = static_cast<int64_t>(genes.size());
        genes.push_back(useIds ? d->var.at("gene_ids").valueAsString(g) : candidates[g][0]);
        if (genes.back().empty()) genes.back() = candidates[g][0];
        cellsExpressing.push_back(0);
      }
      for (const auto& name : candidates[g])
        for (const auto& key : keysOf(name)) byKey.emplace(key, slot);
      slotOfColumn[g] = slot;
    }
    if (options.minCells > 0) {
      const CsrMatrix& x = d->X;
      for (int64_t k = 0; k < x.nnz(); ++k)
        if (x.data[k] != 0 && x.indices[k] < static_cast<int32_t>(slotOfColumn.size()))
          ++cellsExpressing[slotOfColumn[x.indices[k]]];
    }
  }
  if (options.minCells > 0) {
    std::vector<std::string> kept;
    for (size_t i = 0; i < genes.size(); ++i)
      if (cellsExpressing[i] >= options.minCells) kept.push_back(genes[i]);
    genes.swap(kept);
  }
  if (genes.empty()) throw Error("no genes to build a vocabulary from");
  return GeneVocabulary(std::move(genes));
}

AlignmentResult alignToVocabulary(const Dataset& dataset, const GeneVocabulary& vocabulary) {
  const auto candidates = geneNameCandidates(dataset);
  AlignmentResult r;
  r.datasetToVocabulary.assign(candidates.size(), -1);
  r.vocabularyToDataset.assign(vocabulary.size(), -1);
  for (size_t g = 0; g < candidates.size(); ++g) {
    int64_t v = -1;
    for (const auto& name : candidates[g]) {
      v = vocabulary.find(name);
      if (v >= 0) break;
    }
    if (v < 0) {
      ++r.unknown;
      if (r.unknownExamples.size() < 10) r.unknownExamples.push_back(candidates[g][0]);
      continue;
    }
    if (r.vocabularyToDataset[v] >= 0) {
      ++r.duplicates;
      continue;
    }
    r.vocabularyToDataset[v] = static_cast<int64_t>(g);
    r.datasetToVocabulary[g] = v;
    ++r.matched;
  }
  r.missing = vocabulary.size() - r.matched;
  return r;
}

std::string AlignmentResult::summary() const {
  std::ostringstream s;
  const int64_t vocab = matched + missing;
  s << matched << " of " << vocab << " vocabulary genes found in the data";
  if (missing) s << " (" << missing << " missing, set to zero)";
  if (unknown) {
    s << "; " << unknown << " data genes not in the vocabulary were left out (e.g. "
      << joinStrings(std::vector<std::string>(unknownExamples.begin(),
                                              unknownExamples.begin() + std::min<size_t>(3, unknownExamples.size())),
                     ", ")
      << ")";
  }
  if (duplicates) s << "; " << duplicates << " data genes duplicated another's match and were left out";
  return s.str();
}

CsrMatrix alignMatrix(const CsrMatrix& matrix, const AlignmentResult& alignment) {
  if (static_cast<int64_t>(alignment.datasetToVocabulary.size()) != matrix.cols)
    throw Error("gene alignment was made for a dataset with a different number of genes");
  CsrMatrix out;
  out.rows = matrix.rows;
  out.cols = static_cast<int64_t>(alignment.vocabularyToDataset.size());
  out.indptr.assign(1, 0);
  out.indptr.reserve(matrix.rows + 1);
  out.indices.reserve(matrix.indices.size());
  out.data.reserve(matrix.data.size());
  std::vector<std::pair<int32_t, float>> row;
  for (int64_t r = 0; r < matrix.rows; ++r) {
    row.clear();
    for (int64_t k = matrix.indptr[r]; k < matrix.indptr[r + 1]; ++k) {
      const int64_t v = alignment.datasetToVocabulary[matrix.indices[k]];
      if (v >= 0) row.emplace_back(static_cast<int32_t>(v), matrix.data[k]);
    }
    std::sort(row.begin(), row.end());
    for (const auto& [c, x] : row) {
      out.indices.push_back(c);
      out.data.push_back(x);
    }
    out.indptr.push_back(static_cast<int64_t>(out.data.size()));
  }
  return out;
}

}  // namespace cw::preprocess
