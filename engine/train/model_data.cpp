#include "cellwright/train/model_data.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <set>

#include "cellwright/analysis/pca.h"
#include "cellwright/core/errors.h"
#include "cellwright/preprocess/hvg.h"
#include "cellwright/preprocess/normalize.h"

#if __has_include("cellwright/tokenize/tokenizers.h")
#include "cellwright/tokenize/tokenizers.h"
#define CELLWRIGHT_HAVE_TOKENIZERS 1
#else
#define CELLWRIGHT_HAVE_TOKENIZERS 0
#endif

namespace cw::train {

LabelCodes labelCodes(const Dataset& dataset, const std::string& column) {
  if (!dataset.obs.has(column)) {
    std::string available;
    for (const auto& name : dataset.obs.columnOrder) available += (available.empty() ? "" : ", ") + name;
    throw Error("the data has no obs column '" + column + "' (columns: " + available + ")");
  }
  const Column& c = dataset.obs.at(column);
  LabelCodes out;
  const size_t n = c.size();
  out.codes.assign(n, -1);
  if (c.kind == Column::Kind::Categorical) {
    std::vector<bool> used(c.categories.size(), false);
    for (auto code : c.codes)
      if (code >= 0) used[code] = true;
    std::vector<int64_t> remap(c.categories.size(), -1);
    for (size_t k = 0; k < c.categories.size(); ++k)
      if (used[k]) {
        remap[k] = static_cast<int64_t>(out.names.size());
        out.names.push_back(c.categories[k]);
      }
    for (size_t i = 0; i < n; ++i) out.codes[i] = c.codes[i] >= 0 ? remap[c.codes[i]] : -1;
    return out;
  }
  std::set<std::string> values;
  std::vector<std::string> text(n);
  for (size_t i = 0; i < n; ++i) {
    text[i] = c.valueAsString(i);
    if (!text[i].empty()) values.insert(text[i]);
  }
  out.names.assign(values.begin(), values.end());
  std::map<std::string, int64_t> index;
  for (size_t k = 0; k < out.names.size(); ++k) index[out.names[k]] = static_cast<int64_t>(k);
  for (size_t i = 0; i < n; ++i) out.codes[i] = text[i].empty() ? -1 : index[text[i]];
  return out;
}

std::vector<int64_t> recode(const LabelCodes& labels, const std::vector<std::string>& names) {
  std::map<std::string, int64_t> index;
  for (size_t k = 0; k < names.size(); ++k) index[names[k]] = static_cast<int64_t>(k);
  std::vector<int64_t> out(labels.codes.size(), -1);
  for (size_t i = 0; i < out.size(); ++i) {
    if (labels.codes[i] < 0) continue;
    auto it = index.find(labels.names[labels.codes[i]]);
    if (it != index.end()) out[i] = it->second;
  }
  return out;
}

ModelData alignDataset(const Dataset& dataset, const preprocess::GeneVocabulary& genes) {
  ModelData data;
  data.genes = genes;
  auto alignment = preprocess::alignToVocabulary(dataset, genes);
  if (alignment.matched == 0)
    throw Error("none of the data's genes are in the model's gene list (" + std::to_string(genes.size()) +
                " genes): wrong species or gene naming?");
  data.alignmentSummary = alignment.summary();
  const CsrMatrix* counts = dataset.counts();
  data.valuesAreLogNormalized = counts == nullptr;
  data.values = preprocess::alignMatrix(counts ? *counts : dataset.X, alignment);
  return data;
}

preprocess::GeneVocabulary chooseGenes(const Dataset& dataset, const plugins::TokenizerSpec& spec,
                                       const std::vector<int64_t>& cells) {
  std::vector<std::string> names = dataset.var.index;
  if (spec.genes != plugins::GeneSelection::HighlyVariable || spec.nHighlyVariable <= 0 ||
      spec.nHighlyVariable >= static_cast<int64_t>(names.size()))
    return preprocess::GeneVocabulary(names);
  const CsrMatrix* counts = dataset.counts();
  CsrMatrix logNormalized = (counts ? *counts : dataset.X).selectRows(cells);
  if (counts) {
    preprocess::normalizeTotal(logNormalized, {spec.targetSum});
    preprocess::log1p(logNormalized);
  }
  preprocess::HvgOptions hvg;
  hvg.nTopGenes = spec.nHighlyVariable;
  auto result = preprocess::highlyVariableGenes(logNormalized, hvg);
  std::vector<std::string> chosen;
  for (size_t g = 0; g < names.size(); ++g)
    if (result.highlyVariable[g]) chosen.push_back(names[g]);
  return preprocess::GeneVocabulary(chosen);
}

torch::Tensor pcaGeneEmbeddings(const ModelData& data, const std::vector<int64_t>& cells, int64_t dim,
                                int64_t vocabSize, double scale, double clip, uint64_t seed) {
  const int64_t nGenes = data.values.cols;
  if (vocabSize < nGenes + 1) throw Error("the gene vocabulary is smaller than the data's genes");
  CsrMatrix x = data.values.selectRows(cells);
  if (!data.valuesAreLogNormalized) {
    preprocess::normalizeTotal(x, {1e4});
    preprocess::log1p(x);
  }
  for (auto& v : x.data) v = std::min<double>(v, clip);
  analysis::PcaOptions o;
  o.nComps = static_cast<int>(std::min<int64_t>({dim, x.rows - 1, nGenes - 1}));
  o.seed = seed;
  o.allGenes = true;
  if (o.nComps < 1) throw Error("too few training cells or genes for a PCA initialisation");
  const auto pca = analysis::pca(x, o);
  auto table = torch::zeros({vocabSize, dim}, torch::kFloat);
  auto t = table.accessor<float, 2>();
  for (int64_t row = 0; row < pca.loadings.rows; ++row) {
    const int64_t gene = pca.genesUsed.empty() ? row : pca.genesUsed[static_cast<size_t>(row)];
    for (int64_t k = 0; k < pca.loadings.cols; ++k) t[gene + 1][k] = static_cast<float>(pca.loadings.at(row, k));
  }
  const double sd = table.narrow(0, 1, nGenes).narrow(1, 0, o.nComps).std().item<double>();
  if (sd > 0) table.mul_(scale / sd);
  return table;
}

namespace {

// Baselines: [B, G] log-normalised rows.
tokenize::TokenBatch collateDenseRows(const ModelData& data, const std::vector<int64_t>& cells, double targetSum) {
  const int64_t g = data.values.cols;
  auto dense = torch::zeros({static_cast<int64_t>(cells.size()), g}, torch::kFloat);
  auto out = dense.accessor<float, 2>();
  for (size_t b = 0; b < cells.size(); ++b) {
    const int64_t row = cells[b];
    const int64_t begin = data.values.indptr[row], end = data.values.indptr[row + 1];
    double total = 0;
    if (!data.valuesAreLogNormalized)
      for (int64_t k = begin; k < end; ++k) total += data.values.data[k];
    for (int64_t k = begin; k < end; ++k) {
      const double v = data.values.data[k];
      out[static_cast<int64_t>(b)][data.values.indices[k]] =
          static_cast<float>(data.valuesAreLogNormalized ? v : (total > 0 ? std::log1p(v * targetSum / total) : 0.0));
    }
  }
  tokenize::TokenBatch batch;
  batch.dense = dense;
  batch.cellIndices = cells;
  return batch;
}

torch::Tensor perCell(const std::vector<int64_t>& codes, const std::vector<int64_t>& cells) {
  std::vector<int64_t> picked;
  picked.reserve(cells.size());
  for (auto c : cells) picked.push_back(codes.empty() ? -1 : codes[c]);
  return torch::tensor(picked, torch::kLong);
}

}  // namespace

Collate makeCollate(const ModelData& data, const plugins::TokenizerSpec& spec, const nlohmann::json& config,
                    bool masking, uint64_t seed) {
  (void)config;
  auto withCodes = [&data](tokenize::TokenBatch batch, const std::vector<int64_t>& cells) {
    batch.labels = perCell(data.labels, cells);
    batch.studies = perCell(data.studies, cells);
    batch.cellIndices = cells;
    return batch;
  };
  if (spec.kind == "dense") {
    const double targetSum = spec.targetSum;
    return [&data, targetSum, withCodes](const std::vector<int64_t>& cells, uint64_t) {
      return withCodes(collateDenseRows(data, cells, targetSum), cells);
    };
  }
#if CELLWRIGHT_HAVE_TOKENIZERS
  auto source = std::make_shared<tokenize::CellSource>();
  source->matrix = &data.values;
  source->valuesAreLogNormalized = data.valuesAreLogNormalized;
  auto tokenizer = makeTokenizer(spec, data.values.cols, masking, seed);
  return [source, tokenizer, withCodes](const std::vector<int64_t>& cells, uint64_t epoch) {
    std::vector<tokenize::CellRef> refs;
    refs.reserve(cells.size());
    for (auto c : cells) refs.push_back({source.get(), c});
    return withCodes(tokenizer(refs, epoch), cells);
  };
#else
  (void)masking;
  (void)seed;
  throw NotAvailable("the '" + spec.kind + "' tokenizer");
#endif
}

#if CELLWRIGHT_HAVE_TOKENIZERS
tokenize::BatchTokenizer makeTokenizer(const plugins::TokenizerSpec& spec, int64_t nGenes, bool masking, uint64_t seed) {
  tokenize::ValueOptions values;
  values.targetSum = spec.targetSum;
  values.logBase = spec.log2 ? preprocess::LogBase::Two : preprocess::LogBase::Natural;
  if (spec.kind == "dense") {
    const tokenize::DenseOptions o{nGenes, values};
    return [o](const std::vector<tokenize::CellRef>& cells, uint64_t) { return tokenize::collateDense(cells, o); };
  }
  if (spec.kind == "scbert" || spec.kind == "screformer") {
    tokenize::ScReformerOptions o;
    o.nGenes = nGenes;
    o.bucketSize = std::max<int64_t>(1, spec.padToMultipleOf / 2);
    o.values = values;
    o.masking = {masking, seed, spec.maskFraction, 1.0 - spec.maskReplaceFraction};
    return [o](const std::vector<tokenize::CellRef>& cells, uint64_t epoch) {
      return tokenize::tokenizeScReformer(cells, o, epoch);
    };
  }
  if (spec.kind == "bioformer") {
    tokenize::BioFormerOptions o;
    o.nGenes = nGenes;
    o.values = values;
    o.masking = {masking, seed, spec.maskFraction, 1.0 - spec.maskReplaceFraction};
    return [o](const std::vector<tokenize::CellRef>& cells, uint64_t epoch) {
      return tokenize::tokenizeBioFormer(cells, o, epoch);
    };
  }
  if (spec.kind == "cellpatch") {
    tokenize::CellPatchOptions o;
    o.nGenes = nGenes;
    if (spec.maxTokens > 0) o.maxGenes = spec.maxTokens;
    if (spec.clipValue > 0) o.maxValue = spec.clipValue;
    o.roundValues = spec.binning == plugins::Binning::ClipRound;
    o.values = values;
    o.masking = masking;
    o.seed = seed;
    if (spec.heldOutFraction > 0) o.heldOutFraction = spec.heldOutFraction;
    o.zeroTargetRatio = spec.zeroTargetRatio;
    if (spec.maxDecoderGenes > 0) o.maxDecoderGenes = spec.maxDecoderGenes;
    return [o](const std::vector<tokenize::CellRef>& cells, uint64_t epoch) {
      return tokenize::tokenizeCellPatch(cells, o, epoch);
    };
  }
  throw NotAvailable("the '" + spec.kind + "' tokenizer");
}
#endif

std::vector<torch::Tensor> PluginTrainable::trainableParameters() {
  if (headOnly_) {
    auto head = model_->classifierParameters();
    if (!head.empty()) {
      for (auto& p : model_->parameters()) p.set_requires_grad(false);
      for (auto& p : head) p.set_requires_grad(true);
      return head;
    }
  }
  return TrainableModel::trainableParameters();
}

StepOutput PluginTrainable::forward(const tokenize::TokenBatch& batch) {
  StepOutput out;
  if (objective_ == Objective::Pretrain) out.loss = model_->pretrainLosses(batch).total;
  else out.logits = model_->classify(batch);
  return out;
}

}  // namespace cw::train
