#include "cellwright/preprocess/pipeline.h"

#include <algorithm>
#include <map>
#include <sstream>
#include <unordered_map>

#include "cellwright/core/errors.h"
#include "cellwright/preprocess/normalize.h"

namespace cw::preprocess {
namespace {

Column boolColumn(const std::vector<bool>& v) {
  Column c;
  c.kind = Column::Kind::Bool;
  c.dtype = "bool";
  c.bools.reserve(v.size());
  for (bool b : v) c.bools.push_back(b ? 1 : 0);
  return c;
}

Column numbers(const std::vector<double>& v, const char* dtype = "float64") { return Column::numeric(v, dtype); }

template <typename T>
Column integers(const std::vector<T>& v) {
  return Column::numeric(std::vector<double>(v.begin(), v.end()), "int64");
}

// The raw counts as a cells × var matrix. raw/X may hold more genes than var: pick var's.
CsrMatrix countsForVar(const Dataset& d) {
  if (d.countsSource != CountsSource::RawX || !d.raw) return *d.counts();
  if (d.raw->var.index == d.var.index) return d.raw->X;
  std::unordered_map<std::string, int64_t> rawIndex;
  for (size_t i = 0; i < d.raw->var.index.size(); ++i) rawIndex.emplace(d.raw->var.index[i], static_cast<int64_t>(i));
  std::vector<int64_t> columns;
  for (const auto& g : d.var.index) {
    auto it = rawIndex.find(g);
    if (it == rawIndex.end()) throw Error("raw counts (raw/X) lack the gene '" + g + "' that X has");
    columns.push_back(it->second);
  }
  return d.raw->X.selectColumns(columns);
}

}  // namespace

std::vector<int32_t> obsCodes(const Dataset& dataset, const std::string& column, int32_t* nCodes) {
  if (!dataset.obs.has(column)) throw Error("the data has no obs column '" + column + "'");
  const Column& c = dataset.obs.at(column);
  if (c.kind == Column::Kind::Categorical) {
    if (nCodes) *nCodes = static_cast<int32_t>(c.categories.size());
    return c.codes;
  }
  std::map<std::string, int32_t> levels;
  for (size_t i = 0; i < c.size(); ++i) {
    const std::string v = c.valueAsString(i);
    if (!v.empty()) levels.emplace(v, 0);
  }
  int32_t next = 0;
  for (auto& [k, code] : levels) code = next++;
  std::vector<int32_t> codes(c.size(), -1);
  for (size_t i = 0; i < c.size(); ++i) {
    const std::string v = c.valueAsString(i);
    if (!v.empty()) codes[i] = levels[v];
  }
  if (nCodes) *nCodes = next;
  return codes;
}

void selectVars(Dataset& d, const std::vector<int64_t>& genes) {
  d.X = d.X.selectColumns(genes);
  for (auto& [name, layer] : d.layers) layer = layer.selectColumns(genes);
  d.var = d.var.selectRows(genes);
  for (auto& [name, m] : d.varm) {
    DenseMatrix out;
    out.rows = static_cast<int64_t>(genes.size());
    out.cols = m.cols;
    out.values.reserve(out.rows * out.cols);
    for (int64_t g : genes)
      out.values.insert(out.values.end(), m.values.begin() + g * m.cols, m.values.begin() + (g + 1) * m.cols);
    m = std::move(out);
  }
}

PreprocessResult preprocessDataset(Dataset& d, const PreprocessOptions& o, Feedback* feedback) {
  PreprocessResult r;
  r.cellsBefore = d.nObs();
  r.genesBefore = d.nVars();
  if (d.countsSource == CountsSource::None) d.countsSource = detectCountsSource(d);
  const bool haveCounts = d.countsSource != CountsSource::None;
  if (!haveCounts && !o.assumeNormalized)
    throw Error("no raw counts found (X, layers['counts'] or raw/X hold no integer counts); "
                "use --assume-normalized if X is already normalised");
  if (feedback) feedback->setProgress(0.0, "quality control");

  // QC on counts (or on X when only normalised data exists).
  CsrMatrix counts = haveCounts ? countsForVar(d) : d.X;
  const QcMetrics qc = computeQcMetrics(counts, d.var.index, o.filters.qc);
  d.obs.set("n_genes_by_counts", integers(qc.nGenesByCounts));
  d.obs.set("total_counts", numbers(qc.totalCounts));
  d.obs.set("pct_counts_mt", numbers(qc.pctCountsMito));
  d.var.set("mt", boolColumn(qc.isMito));
  d.var.set("n_cells_by_counts", integers(qc.nCellsByCounts));

  const bool filtering = o.filters.minGenes > 0 || o.filters.minCells > 0 || o.filters.maxPctMito >= 0;
  if (filtering) {
    r.filter = filterCellsAndGenes(counts, d.var.index, o.filters);
    if (o.filters.maxPctMito >= 0 && r.filter.nMitoGenes == 0)
      r.warnings.push_back("no mitochondrial genes (MT- / mt-) found: the percent-mito filter removed nothing");
    if (r.filter.keptCells.empty()) throw Error("the filters removed every cell");
    if (r.filter.keptGenes.empty()) throw Error("the filters removed every gene");
    if (static_cast<int64_t>(r.filter.keptCells.size()) != d.nObs()) {
      d = d.selectObs(r.filter.keptCells);
      counts = counts.selectRows(r.filter.keptCells);
    }
    if (static_cast<int64_t>(r.filter.keptGenes.size()) != d.nVars()) {
      selectVars(d, r.filter.keptGenes);
      counts = counts.selectColumns(r.filter.keptGenes);
    }
  }
  pollCancel(feedback);

  if (haveCounts) {
    d.layers["counts"] = counts;
    if (!o.assumeNormalized) {
      if (feedback) feedback->setProgress(0.2, "normalising");
      CsrMatrix x = counts;
      r.targetSumUsed = normalizeTotal(x, {o.targetSum}).targetSumUsed;
      if (o.log1p) {
        log1p(x);
        UnsDict log1pInfo;
        d.uns["log1p"].value = log1pInfo;
      }
      d.X = std::move(x);
      d.xDtype = "float32";
    }
    d.countsSource = CountsSource::LayersCounts;
  }
  pollCancel(feedback);

  if (o.nTopHvg > 0) {
    if (feedback) feedback->setProgress(0.5, "highly variable genes");
    HvgOptions h;
    h.flavor = o.hvgFlavor;
    h.nTopGenes = o.nTopHvg;
    if (!o.batchKey.empty()) {
      h.batches = obsCodes(d, o.batchKey);
      if (std::find(h.batches.begin(), h.batches.end(), -1) != h.batches.end())
        throw Error("some cells have no value in the batch column '" + o.batchKey + "'");
    }
    if (o.hvgFlavor != HvgFlavor::SeuratV3 && !o.log1p && !o.assumeNormalized)
      r.warnings.push_back(std::string("the ") + hvgFlavorName(o.hvgFlavor) +
                           " flavour expects log1p data; without log1p its dispersions are not scanpy's");
    if (o.hvgFlavor == HvgFlavor::SeuratV3 && !haveCounts)
      throw Error("seurat_v3 highly variable genes need raw counts, and none were found");
    const HvgResult hv = highlyVariableGenes(o.hvgFlavor == HvgFlavor::SeuratV3 ? d.layers.at("counts") : d.X, h, feedback);
    d.var.set("highly_variable", boolColumn(hv.highlyVariable));
    d.var.set("means", numbers(hv.means));
    if (o.hvgFlavor == HvgFlavor::SeuratV3) {
      d.var.set("variances", numbers(hv.variances));
      d.var.set("variances_norm", numbers(hv.variancesNorm));
      d.var.set("highly_variable_rank", numbers(hv.highlyVariableRank));
    } else {
      d.var.set("dispersions", numbers(hv.dispersions));
      d.var.set("dispersions_norm", numbers(hv.dispersionsNorm));
    }
    if (!hv.highlyVariableNbatches.empty() && !o.batchKey.empty()) {
      d.var.set("highly_variable_nbatches", integers(hv.highlyVariableNbatches));
      if (!hv.highlyVariableIntersection.empty())
        d.var.set("highly_variable_intersection", boolColumn(hv.highlyVariableIntersection));
    }
    UnsDict hvgInfo;
    hvgInfo["flavor"].value = std::string(hvgFlavorName(o.hvgFlavor));
    d.uns["hvg"].value = hvgInfo;
    r.nHighlyVariable = hv.nHighlyVariable;
  }
  r.cellsAfter = d.nObs();
  r.genesAfter = d.nVars();
  if (feedback) feedback->setProgress(1.0, "done");
  return r;
}

std::string PreprocessResult::summary() const {
  std::ostringstream s;
  s << cellsAfter << " cells x " << genesAfter << " genes";
  if (cellsAfter != cellsBefore || genesAfter != genesBefore)
    s << " (from " << cellsBefore << " x " << genesBefore << ")";
  if (targetSumUsed > 0) s << "; normalised to " << targetSumUsed << " counts per cell";
  if (nHighlyVariable > 0) s << "; " << nHighlyVariable << " highly variable genes";
  return s.str();
}

}  // namespace cw::preprocess
