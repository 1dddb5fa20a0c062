#include "cellwright/tokenize/tokenizers.h"

#include <algorithm>
#include <cmath>

#include "cellwright/core/errors.h"

namespace cw::tokenize {
namespace {

void checkCells(const std::vector<CellRef>& cells, int64_t nGenes, const char* model) {
  if (nGenes <= 0) throw Error(std::string(model) + " tokenizer: the model has no genes");
  for (const auto& c : cells) {
    if (!c.source || !c.source->matrix) throw Error(std::string(model) + " tokenizer: a cell has no data");
    if (c.source->matrix->cols != nGenes)
      throw Error(std::string(model) + " tokenizer: the data has " + std::to_string(c.source->matrix->cols) +
                  " genes but the model has " + std::to_string(nGenes) + "; align it to the model's genes first");
  }
}

// labels, studies, cellIndices, datasetIndices.
void fillPerCell(const std::vector<CellRef>& cells, TokenBatch& batch) {
  const auto B = static_cast<int64_t>(cells.size());
  batch.labels = torch::full({B}, -1, torch::kInt64);
  batch.studies = torch::full({B}, -1, torch::kInt64);
  auto* labels = batch.labels.data_ptr<int64_t>();
  auto* studies = batch.studies.data_ptr<int64_t>();
  for (int64_t b = 0; b < B; ++b) {
    const CellSource& s = *cells[b].source;
    const auto local = static_cast<size_t>(cells[b].row - s.firstRow);
    if (!s.labels.empty()) labels[b] = s.labels.at(local);
    if (!s.studies.empty()) studies[b] = s.studies.at(local);
    batch.cellIndices.push_back(cells[b].row);
    batch.datasetIndices.push_back(s.datasetIndex);
  }
}

// Shared by scReformer and BioFormer: one token per model gene from `offset` on.
// binOf(nonZeroIndex) gives the bin of the cell's i-th non-zero gene.
struct FixedLayout {
  int64_t length;
  int64_t offset;  // 1 for BioFormer (CLS), 0 for scReformer
  int64_t maskBin;
  int64_t padBin;
};

template <typename BinFn>
void fillFixedRow(const CellValues& cell, int64_t nGenes, const FixedLayout& layout, const MaskingOptions& masking,
                  uint64_t epoch, const CellRef& ref, BinFn binOf, int64_t* bins, float* values, bool* masked,
                  int64_t* targetBins, float* targetValues) {
  // Zeros everywhere (bin 0, value 0), then the non-zero genes.
  for (size_t i = 0; i < cell.genes.size(); ++i) {
    const int64_t pos = layout.offset + cell.genes[i];
    bins[pos] = binOf(i);
    values[pos] = cell.logValues[i];
  }
  if (targetBins) {
    std::copy(bins, bins + layout.length, targetBins);
    std::copy(values, values + layout.length, targetValues);
  }
  if (!masking.enabled) return;
  Rng rng = cellRng(masking.seed, epoch, ref.source->datasetIndex, ref.row);
  const MaskPlan plan =
      planMasking(rng, static_cast<int64_t>(cell.genes.size()), masking.fraction, masking.keepFraction);
  for (int64_t i : plan.replaced) {
    const int64_t pos = layout.offset + cell.genes[i];
    bins[pos] = layout.maskBin;
    values[pos] = 0.0f;
    masked[pos] = true;
  }
  for (int64_t i : plan.unchanged) masked[layout.offset + cell.genes[i]] = true;
  (void)nGenes;
}

TokenBatch allocateFixed(int64_t B, int64_t L, bool withTargets) {
  TokenBatch batch;
  batch.geneIds = torch::zeros({B, L}, torch::kInt64);
  batch.values = torch::zeros({B, L}, torch::kFloat32);
  batch.bins = torch::zeros({B, L}, torch::kInt64);
  batch.paddingMask = torch::zeros({B, L}, torch::kBool);
  if (withTargets) {
    batch.maskedPositions = torch::zeros({B, L}, torch::kBool);
    batch.targetBins = torch::zeros({B, L}, torch::kInt64);
    batch.targetValues = torch::zeros({B, L}, torch::kFloat32);
  }
  return batch;
}

}  // namespace

TokenBatch tokenizeScReformer(const std::vector<CellRef>& cells, const ScReformerOptions& o, uint64_t epoch) {
  checkCells(cells, o.nGenes, "scReformer");
  if (o.bucketSize <= 0) throw Error("scReformer tokenizer: bucket size must be positive");
  const auto B = static_cast<int64_t>(cells.size());
  const int64_t multiple = 2 * o.bucketSize;
  const int64_t L = (o.nGenes + multiple - 1) / multiple * multiple;
  TokenBatch batch = allocateFixed(B, L, o.masking.enabled);
  auto* ids = batch.geneIds.data_ptr<int64_t>();
  auto* bins = batch.bins.data_ptr<int64_t>();
  auto* values = batch.values.data_ptr<float>();
  auto* pad = batch.paddingMask.data_ptr<bool>();
  const FixedLayout layout{L, 0, kScReformerMaskBin, kScReformerMaskBin};
  CellValues cell;
  for (int64_t b = 0; b < B; ++b) {
    int64_t* rowIds = ids + b * L;
    int64_t* rowBins = bins + b * L;
    for (int64_t g = 0; g < o.nGenes; ++g) rowIds[g] = geneTokenId(g);
    for (int64_t p = o.nGenes; p < L; ++p) {
      rowBins[p] = layout.padBin;
      pad[b * L + p] = true;
    }
    readCell(cells[b], o.values, cell);
    fillFixedRow(
        cell, o.nGenes, layout, o.masking, epoch, cells[b],
        [&](size_t i) { return truncatedBin(cell.logValues[i], kScReformerMaxBin); }, rowBins, values + b * L,
        o.masking.enabled ? batch.maskedPositions.data_ptr<bool>() + b * L : nullptr,
        o.masking.enabled ? batch.targetBins.data_ptr<int64_t>() + b * L : nullptr,
        o.masking.enabled ? batch.targetValues.data_ptr<float>() + b * L : nullptr);
  }
  fillPerCell(cells, batch);
  return batch;
}

TokenBatch tokenizeBioFormer(const std::vector<CellRef>& cells, const BioFormerOptions& o, uint64_t epoch) {
  checkCells(cells, o.nGenes, "BioFormer");
  const auto B = static_cast<int64_t>(cells.size());
  const int64_t L = o.nGenes + 1;
  TokenBatch batch = allocateFixed(B, L, o.masking.enabled);
  auto* ids = batch.geneIds.data_ptr<int64_t>();
  const FixedLayout layout{L, 1, kBioFormerMaskBin, 0};
  CellValues cell;
  for (int64_t b = 0; b < B; ++b) {
    int64_t* rowIds = ids + b * L;
    rowIds[0] = clsTokenId(o.nGenes);
    for (int64_t g = 0; g < o.nGenes; ++g) rowIds[g + 1] = geneTokenId(g);
    readCell(cells[b], o.values, cell);
    const std::vector<int64_t> q = quantileBins(cell.counts, kBioFormerQuantileBins);
    fillFixedRow(
        cell, o.nGenes, layout, o.masking, epoch, cells[b], [&](size_t i) { return q[i]; },
        batch.bins.data_ptr<int64_t>() + b * L, batch.values.data_ptr<float>() + b * L,
        o.masking.enabled ? batch.maskedPositions.data_ptr<bool>() + b * L : nullptr,
        o.masking.enabled ? batch.targetBins.data_ptr<int64_t>() + b * L : nullptr,
        o.masking.enabled ? batch.targetValues.data_ptr<float>() + b * L : nullptr);
  }
  fillPerCell(cells, batch);
  return batch;
}

namespace {

struct CellPatchCell {
  std::vector<int32_t> encoderGenes;
  std::vector<float> encoderValues;
  std::vector<int32_t> decoderGenes;
  std::vector<float> decoderTargets;
};

CellPatchCell planCellPatch(const CellValues& cell, const CellPatchOptions& o, uint64_t epoch, const CellRef& ref) {
  auto transform = [&](float v) {
    float x = std::min(v, static_cast<float>(o.maxValue));
    return o.roundValues ? std::round(x) : x;
  };
  const auto n = static_cast<int64_t>(cell.genes.size());
  std::vector<bool> held(n, false);
  CellPatchCell out;
  if (o.masking && n >= 2) {
    Rng rng = cellRng(o.seed, epoch, ref.source->datasetIndex, ref.row);
    int64_t nHeld = std::clamp<int64_t>(std::llround(o.heldOutFraction * static_cast<double>(n)), 1, n - 1);
    // Room for the zero genes within the decoder cap.
    nHeld = std::min(nHeld, static_cast<int64_t>(static_cast<double>(o.maxDecoderGenes) / (1.0 + o.zeroTargetRatio)));
    auto chosen = sampleWithoutReplacement(rng, n, nHeld);
    std::sort(chosen.begin(), chosen.end());
    for (int64_t i : chosen) {
      held[i] = true;
      out.decoderGenes.push_back(cell.genes[i]);
      out.decoderTargets.push_back(transform(cell.logValues[i]));
    }
    // Half as many genes the cell does not express, target 0.
    const int64_t zerosAvailable = o.nGenes - n;
    const auto wantedZeros = static_cast<int64_t>(std::floor(o.zeroTargetRatio * static_cast<double>(nHeld)));
    const int64_t nZero = std::min({wantedZeros, o.maxDecoderGenes - nHeld, zerosAvailable});
    std::vector<int32_t> zeros;
    auto expressed = [&](int32_t g) { return std::binary_search(cell.genes.begin(), cell.genes.end(), g); };
    if (nZero > 0 && zerosAvailable >= 4 * nZero) {
      // Mostly zeros: draw genes and reject expressed or repeated ones (no O(nGenes) scan).
      thread_local std::vector<uint8_t> taken;  // per-thread scratch, cleared after use
      if (taken.size() < static_cast<size_t>(o.nGenes)) taken.resize(static_cast<size_t>(o.nGenes), 0);
      for (int32_t g : cell.genes) taken[g] = 1;
      while (static_cast<int64_t>(zeros.size()) < nZero) {
        const auto g = static_cast<int32_t>(rng.below(static_cast<uint64_t>(o.nGenes)));
        if (taken[g]) continue;
        taken[g] = 1;
        zeros.push_back(g);
      }
      for (int32_t g : cell.genes) taken[g] = 0;
      for (int32_t g : zeros) taken[g] = 0;
    } else if (nZero > 0) {
      std::vector<int32_t> candidates;
      candidates.reserve(zerosAvailable);
      for (int32_t g = 0; g < o.nGenes; ++g)
        if (!expressed(g)) candidates.push_back(g);
      for (int64_t i : sampleWithoutReplacement(rng, static_cast<int64_t>(candidates.size()), nZero))
        zeros.push_back(candidates[i]);
    }
    std::sort(zeros.begin(), zeros.end());
    for (int32_t g : zeros) {
      out.decoderGenes.push_back(g);
      out.decoderTargets.push_back(0.0f);
    }
  }
  std::vector<int64_t> kept;
  for (int64_t i = 0; i < n; ++i)
    if (!held[i]) kept.push_back(i);
  if (static_cast<int64_t>(kept.size()) > o.maxGenes) {
    // Keep the highest values; on ties the lower gene index.
    std::stable_sort(kept.begin(), kept.end(),
                     [&](int64_t a, int64_t b) { return cell.logValues[a] > cell.logValues[b]; });
    kept.resize(o.maxGenes);
    std::sort(kept.begin(), kept.end());
  }
  for (int64_t i : kept) {
    out.encoderGenes.push_back(cell.genes[i]);
    out.encoderValues.push_back(transform(cell.logValues[i]));
  }
  return out;
}

}  // namespace

TokenBatch tokenizeCellPatch(const std::vector<CellRef>& cells, const CellPatchOptions& o, uint64_t epoch) {
  checkCells(cells, o.nGenes, "CellPatch");
  if (o.maxGenes <= 0) throw Error("CellPatch tokenizer: the gene cap must be positive");
  const auto B = static_cast<int64_t>(cells.size());
  std::vector<CellPatchCell> planned(B);
  CellValues cell;
  int64_t L = 1, D = 1;
  for (int64_t b = 0; b < B; ++b) {
    readCell(cells[b], o.values, cell);
    planned[b] = planCellPatch(cell, o, epoch, cells[b]);
    L = std::max<int64_t>(L, static_cast<int64_t>(planned[b].encoderGenes.size()));
    D = std::max<int64_t>(D, static_cast<int64_t>(planned[b].decoderGenes.size()));
  }
  TokenBatch batch;
  batch.geneIds = torch::zeros({B, L}, torch::kInt64);
  batch.values = torch::zeros({B, L}, torch::kFloat32);
  batch.paddingMask = torch::ones({B, L}, torch::kBool);
  auto* ids = batch.geneIds.data_ptr<int64_t>();
  auto* values = batch.values.data_ptr<float>();
  auto* pad = batch.paddingMask.data_ptr<bool>();
  for (int64_t b = 0; b < B; ++b)
    for (size_t i = 0; i < planned[b].encoderGenes.size(); ++i) {
      ids[b * L + i] = geneTokenId(planned[b].encoderGenes[i]);
      values[b * L + i] = planned[b].encoderValues[i];
      pad[b * L + i] = false;
    }
  if (o.masking) {
    batch.decoderGeneIds = torch::zeros({B, D}, torch::kInt64);
    batch.decoderTargets = torch::zeros({B, D}, torch::kFloat32);
    batch.decoderPaddingMask = torch::ones({B, D}, torch::kBool);
    auto* dIds = batch.decoderGeneIds.data_ptr<int64_t>();
    auto* dTargets = batch.decoderTargets.data_ptr<float>();
    auto* dPad = batch.decoderPaddingMask.data_ptr<bool>();
    for (int64_t b = 0; b < B; ++b)
      for (size_t i = 0; i < planned[b].decoderGenes.size(); ++i) {
        dIds[b * D + i] = geneTokenId(planned[b].decoderGenes[i]);
        dTargets[b * D + i] = planned[b].decoderTargets[i];
        dPad[b * D + i] = false;
      }
  }
  fillPerCell(cells, batch);
  return batch;
}

TokenBatch collateDense(const std::vector<CellRef>& cells, const DenseOptions& o) {
  checkCells(cells, o.nGenes, "dense");
  const auto B = static_cast<int64_t>(cells.size());
  TokenBatch batch;
  batch.dense = torch::zeros({B, o.nGenes}, torch::kFloat32);
  auto* dense = batch.dense.data_ptr<float>();
  CellValues cell;
  for (int64_t b = 0; b < B; ++b) {
    readCell(cells[b], o.values, cell);
    for (size_t i = 0; i < cell.genes.size(); ++i) dense[b * o.nGenes + cell.genes[i]] = cell.logValues[i];
  }
  fillPerCell(cells, batch);
  return batch;
}

}  // namespace cw::tokenize
