// The backed (streamed) loader against the in-memory one: same cells, same tokens per cell,
// reproducible by seed, several files as one corpus, and only a few chunks held in memory.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <algorithm>
#include <map>
#include <set>

#include "cellwright/core/errors.h"
#include "cellwright/io/readers.h"
#include "cellwright/tokenize/backed_loader.h"
#include "cellwright/tokenize/loader.h"
#include "cellwright/tokenize/prepare.h"
#include "cellwright/tokenize/streamed_cells.h"

namespace cw::tokenize {
namespace {
namespace fs = std::filesystem;

// Counts with a deterministic sparse pattern: about a third of the genes per cell.
Dataset simulated(int64_t cells, const std::vector<std::string>& genes, uint64_t seed) {
  Dataset d;
  d.X.rows = cells;
  d.X.cols = static_cast<int64_t>(genes.size());
  Rng rng(seed);
  std::vector<int32_t> types;
  for (int64_t c = 0; c < cells; ++c) {
    for (int32_t g = 0; g < d.X.cols; ++g) {
      if (rng.below(3) != 0) continue;
      d.X.indices.push_back(g);
      d.X.data.push_back(static_cast<float>(1 + rng.below(40)));
    }
    d.X.indptr.push_back(d.X.nnz());
    d.obs.index.push_back("cell" + std::to_string(seed) + "_" + std::to_string(c));
    types.push_back(static_cast<int32_t>(rng.below(3)));
  }
  d.var.index = genes;
  d.obs.set("cell_type", Column::categorical(types, {"B", "NK", "T"}));
  return d;
}

std::vector<std::string> geneNames(int64_t first, int64_t last) {
  std::vector<std::string> names;
  for (int64_t g = first; g < last; ++g) names.push_back("G" + std::to_string(g));
  return names;
}

// The model's genes: G5..G39 of the file (G0..G4 unknown to it) plus two it lacks.
preprocess::GeneVocabulary modelGenes() {
  auto genes = geneNames(5, 40);
  genes.push_back("ABSENT1");
  genes.push_back("ABSENT2");
  return preprocess::GeneVocabulary(genes);
}

struct Files {
  fs::path dir = fs::temp_directory_path() / ("cw_backed_loader_" + std::to_string(::getpid()));
  Dataset a = simulated(300, geneNames(0, 40), 11);
  Dataset b;
  fs::path pathA = dir / "a.h5ad", pathB = dir / "b.h5ad";
  Files() {
    fs::create_directories(dir);
    // File b: other cells, genes in reverse order, one written in lower case.
    auto genes = geneNames(0, 40);
    std::reverse(genes.begin(), genes.end());
    genes[3] = "g36";
    b = simulated(170, genes, 12);
    io::writeH5ad(a, pathA);
    io::writeH5ad(b, pathB);
  }
  ~Files() { fs::remove_all(dir); }
};

Files& files() {
  static Files f;
  return f;
}

// One cell's tokens, padding left out, so batches of different widths compare.
struct CellTokens {
  std::vector<int64_t> ids, bins, decoderIds;
  std::vector<float> values, targets, decoderTargets;
  std::vector<bool> masked;
  int64_t label = -2;
  bool operator==(const CellTokens&) const = default;
};
using Key = std::pair<int64_t, int64_t>;  // dataset, row

void collect(const TokenBatch& b, std::map<Key, CellTokens>& out, std::vector<Key>* order = nullptr) {
  for (int64_t i = 0; i < b.size(); ++i) {
    CellTokens t;
    if (b.geneIds.defined())
      for (int64_t p = 0; p < b.geneIds.size(1); ++p) {
        if (b.paddingMask[i][p].item<bool>()) continue;
        t.ids.push_back(b.geneIds[i][p].item<int64_t>());
        t.values.push_back(b.values[i][p].item<float>());
        if (b.bins.defined()) t.bins.push_back(b.bins[i][p].item<int64_t>());
        if (b.maskedPositions.defined()) t.masked.push_back(b.maskedPositions[i][p].item<bool>());
        if (b.targetValues.defined()) t.targets.push_back(b.targetValues[i][p].item<float>());
      }
    if (b.decoderGeneIds.defined())
      for (int64_t p = 0; p < b.decoderGeneIds.size(1); ++p) {
        if (b.decoderPaddingMask[i][p].item<bool>()) continue;
        t.decoderIds.push_back(b.decoderGeneIds[i][p].item<int64_t>());
        t.decoderTargets.push_back(b.decoderTargets[i][p].item<float>());
      }
    if (b.dense.defined())
      for (int64_t g = 0; g < b.dense.size(1); ++g) t.values.push_back(b.dense[i][g].item<float>());
    if (b.labels.defined()) t.label = b.labels[i].item<int64_t>();
    const Key key{b.datasetIndices[i], b.cellIndices[i]};
    EXPECT_TRUE(out.emplace(key, std::move(t)).second) << "cell seen twice";
    if (order) order->push_back(key);
  }
}

BackedLoaderOptions smallChunks(uint64_t seed, int workers) {
  BackedLoaderOptions o;
  o.batchSize = 8;
  o.seed = seed;
  o.workers = workers;
  o.prefetchBatches = 2;
  o.cellsPerChunk = 16;
  o.chunksPerWindow = 2;
  o.windowsAhead = 1;
  return o;
}

std::map<Key, CellTokens> drainBacked(BackedBatchLoader& loader, uint64_t epoch, std::vector<Key>* order = nullptr) {
  std::map<Key, CellTokens> out;
  loader.startEpoch(epoch);
  while (auto batch = loader.next()) collect(*batch, out, order);
  return out;
}

const std::map<std::string, BatchTokenizer>& tokenizers() {
  static const std::map<std::string, BatchTokenizer> t = [] {
    const int64_t n = modelGenes().size();
    CellPatchOptions cp;
    cp.nGenes = n;
    cp.masking = true;
    cp.seed = 5;
    BioFormerOptions bf;
    bf.nGenes = n;
    bf.masking.enabled = true;
    bf.masking.seed = 5;
    ScReformerOptions sr;
    sr.nGenes = n;
    sr.bucketSize = 4;
    sr.masking.enabled = true;
    sr.masking.seed = 5;
    return std::map<std::string, BatchTokenizer>{
        {"cellpatch", [cp](const std::vector<CellRef>& c, uint64_t e) { return tokenizeCellPatch(c, cp, e); }},
        {"bioformer", [bf](const std::vector<CellRef>& c, uint64_t e) { return tokenizeBioFormer(c, bf, e); }},
        {"screformer", [sr](const std::vector<CellRef>& c, uint64_t e) { return tokenizeScReformer(c, sr, e); }},
    };
  }();
  return t;
}

TEST(BackedCorpus, AlignsEachFileToTheVocabularyAndReportsUnknownGenes) {
  BackedCorpusOptions o;
  o.labelColumn = "cell_type";
  const BackedCorpus corpus({files().pathA, files().pathB}, modelGenes(), o);
  ASSERT_EQ(corpus.files().size(), 2u);
  EXPECT_EQ(corpus.numCells(), 470);
  for (const auto& f : corpus.files()) {
    EXPECT_EQ(f.alignment.matched, 35);  // G5..G39, g36 matched case-insensitively in b
    EXPECT_EQ(f.alignment.missing, 2);   // ABSENT1/2: zero columns
    EXPECT_EQ(f.alignment.unknown, 5);   // G0..G4: counted, left out
    EXPECT_FALSE(f.valuesAreLogNormalized);
  }
  EXPECT_EQ(corpus.classes(), (std::vector<std::string>{"B", "NK", "T"}));
  // A chunk of b holds its cells' counts under the vocabulary's columns.
  const auto chunk = corpus.readChunk(1, 100, 5);
  EXPECT_EQ(chunk->matrix.rows, 5);
  EXPECT_EQ(chunk->matrix.cols, 37);
  EXPECT_EQ(chunk->source.firstRow, 100);
  const Dataset& b = files().b;
  // Cell 102 of b, gene G36 (written "g36", column 3 of b) -> vocabulary column 31.
  float expected = 0;
  for (int64_t k = b.X.indptr[102]; k < b.X.indptr[103]; ++k)
    if (b.X.indices[k] == 3) expected = b.X.data[k];
  float got = 0;
  for (int64_t k = chunk->matrix.indptr[2]; k < chunk->matrix.indptr[3]; ++k)
    if (chunk->matrix.indices[k] == 31) got = chunk->matrix.data[k];
  EXPECT_EQ(got, expected);
}

TEST(BackedCorpus, RefusesFilesWithoutModelGenes) {
  EXPECT_THROW(BackedCorpus({files().pathA}, preprocess::GeneVocabulary({"NOPE1", "NOPE2"})), Error);
  EXPECT_THROW(BackedCorpus({files().dir / "missing.h5ad"}, modelGenes()), Error);
  EXPECT_THROW(BackedCorpus({}, modelGenes()), Error);
}

// Every tokenizer: the streamed cells carry exactly the in-memory loader's tokens.
TEST(BackedBatchLoader, SameTokensPerCellAsTheInMemoryLoader) {
  PrepareOptions po;
  po.labelColumn = "cell_type";
  const auto prepared = prepareCells(files().a, modelGenes(), po);
  BackedCorpusOptions co;
  co.labelColumn = "cell_type";
  const BackedCorpus corpus({files().pathA}, modelGenes(), co);
  for (const auto& [name, tokenizer] : tokenizers()) {
    SCOPED_TRACE(name);
    LoaderOptions lo;
    lo.batchSize = 8;
    lo.seed = 3;
    BatchLoader memory(allCells({&prepared->source}), tokenizer, lo);
    std::map<Key, CellTokens> expected;
    memory.startEpoch(2);
    while (auto batch = memory.next()) collect(*batch, expected);
    BackedBatchLoader backed(corpus, tokenizer, smallChunks(3, 2));
    const auto got = drainBacked(backed, 2);
    ASSERT_EQ(got.size(), 300u);
    EXPECT_TRUE(got == expected);
    // Masking really happened (the comparison covers it).
    int64_t masked = 0;
    for (const auto& [key, t] : got)
      masked += std::count(t.masked.begin(), t.masked.end(), true) + static_cast<int64_t>(t.decoderIds.size());
    EXPECT_GT(masked, 300);
  }
}

TEST(BackedBatchLoader, WithoutShuffleTheBatchesAreTheInMemoryOnes) {
  const auto prepared = prepareCells(files().a, modelGenes());
  const BackedCorpus corpus({files().pathA}, modelGenes());
  const auto& tokenizer = tokenizers().at("cellpatch");
  LoaderOptions lo;
  lo.batchSize = 8;
  lo.shuffle = false;
  BatchLoader memory(allCells({&prepared->source}), tokenizer, lo);
  auto bo = smallChunks(0, 2);
  bo.shuffle = false;
  BackedBatchLoader backed(corpus, tokenizer, bo);
  EXPECT_EQ(backed.batchesPerEpoch(), memory.batchesPerEpoch());
  int64_t n = 0;
  while (auto expected = memory.next()) {
    auto got = backed.next();
    ASSERT_TRUE(got.has_value());
    EXPECT_EQ(got->cellIndices, expected->cellIndices);
    EXPECT_TRUE(torch::equal(got->geneIds, expected->geneIds));
    EXPECT_TRUE(torch::equal(got->values, expected->values));
    EXPECT_TRUE(torch::equal(got->decoderGeneIds, expected->decoderGeneIds));
    ++n;
  }
  EXPECT_EQ(n, 38);  // 300 = 37 × 8 + 4
  EXPECT_FALSE(backed.next().has_value());
}

TEST(BackedBatchLoader, ReproducibleBySeedWhateverTheWorkers) {
  const BackedCorpus corpus({files().pathA, files().pathB}, modelGenes());
  const auto& tokenizer = tokenizers().at("bioformer");
  BackedBatchLoader serial(corpus, tokenizer, smallChunks(7, 0));
  BackedBatchLoader threaded(corpus, tokenizer, smallChunks(7, 3));
  BackedBatchLoader otherSeed(corpus, tokenizer, smallChunks(8, 2));
  std::vector<Key> a, b, c, d;
  const auto tokensA = drainBacked(serial, 1, &a);
  const auto tokensB = drainBacked(threaded, 1, &b);
  EXPECT_EQ(a, b);
  EXPECT_TRUE(tokensA == tokensB);
  drainBacked(otherSeed, 1, &c);
  EXPECT_NE(a, c);
  drainBacked(threaded, 2, &d);  // another epoch, another order
  EXPECT_NE(a, d);
  // The order is the announced one, and mixes the files.
  EXPECT_EQ(serial.epochCells(1), a);
  int64_t switches = 0;
  for (size_t i = 1; i < a.size(); ++i) switches += a[i].first != a[i - 1].first;
  EXPECT_GT(switches, 5);
}

TEST(BackedBatchLoader, TwoFilesAreOneCorpusWithEachFileAligned) {
  const BackedCorpus corpus({files().pathA, files().pathB}, modelGenes());
  DenseOptions dense;
  dense.nGenes = modelGenes().size();
  BatchTokenizer collate = [dense](const std::vector<CellRef>& c, uint64_t) { return collateDense(c, dense); };
  BackedBatchLoader loader(corpus, collate, smallChunks(1, 2));
  for (uint64_t epoch : {0, 1}) {
    const auto got = drainBacked(loader, epoch);
    ASSERT_EQ(got.size(), 470u);  // every cell of both files once
    // Each file's cells as the in-memory alignment of that file gives them.
    for (int64_t file : {0, 1}) {
      PrepareOptions po;
      po.datasetIndex = file;
      const auto prepared = prepareCells(file == 0 ? files().a : files().b, modelGenes(), po);
      std::map<Key, CellTokens> expected;
      collect(collateDense(allCells({&prepared->source}), dense), expected);
      for (const auto& [key, tokens] : expected) {
        ASSERT_TRUE(got.count(key)) << key.first << "," << key.second;
        EXPECT_EQ(got.at(key).values, tokens.values);
      }
    }
  }
}

TEST(BackedBatchLoader, HoldsOnlyAFewChunks) {
  const BackedCorpus corpus({files().pathA}, modelGenes());
  for (int workers : {0, 2}) {
    BackedBatchLoader loader(corpus, tokenizers().at("cellpatch"), smallChunks(4, workers));
    EXPECT_EQ(drainBacked(loader, 0).size(), 300u);
    const BufferStats s = loader.bufferStats();
    // 19 chunks of 16 cells -> 10 windows, each read once.
    EXPECT_EQ(s.windowsRead, 10);
    // The batches being built or prefetched (2 × 8 cells) touch at most two windows of
    // 32 cells, plus one window read ahead: at most three windows, never the file.
    EXPECT_LE(s.peakWindows, workers == 0 ? 2 : 3);
    EXPECT_LE(s.peakCells, 96);
    EXPECT_GT(s.peakCells, 0);
    // In bytes: no more than the 96 densest cells (CellChunk::bytes: 8 bytes per non-zero, row
    // pointers of six 16-cell chunks, a label and a study code per cell), which depends on which
    // cells share a window, and far from the whole file.
    const auto whole = prepareCells(files().a, modelGenes());
    const auto& indptr = whole->matrix.indptr;
    std::vector<size_t> cellNnz;
    for (size_t i = 0; i + 1 < indptr.size(); ++i) cellNnz.push_back(static_cast<size_t>(indptr[i + 1] - indptr[i]));
    std::sort(cellNnz.rbegin(), cellNnz.rend());
    size_t densest = 6 * 17 * 8 + 96 * 2 * 8;
    for (size_t i = 0; i < 96 && i < cellNnz.size(); ++i) densest += cellNnz[i] * 8;
    const size_t wholeBytes = whole->matrix.data.size() * 8 + indptr.size() * 8;
    EXPECT_LE(s.peakBytes, densest);
    EXPECT_LT(densest, wholeBytes / 2);
  }
}

TEST(BackedBatchLoader, DropLastAndBadOptions) {
  const BackedCorpus corpus({files().pathA}, modelGenes());
  auto o = smallChunks(2, 2);
  o.dropLast = true;
  BackedBatchLoader loader(corpus, tokenizers().at("cellpatch"), o);
  EXPECT_EQ(loader.batchesPerEpoch(), 37);
  EXPECT_EQ(drainBacked(loader, 0).size(), 296u);
  o.cellsPerChunk = 0;
  EXPECT_THROW(BackedBatchLoader(corpus, tokenizers().at("cellpatch"), o), Error);
}

// Random access for the trainer: corpus-wide numbering, tokens as the files stacked in memory.
TEST(StreamedCells, CellsNumberedAcrossFilesAsOneStackedDataset) {
  const BackedCorpus corpus({files().pathA, files().pathB}, modelGenes());
  StreamedCells cells(corpus, {16, 3});
  EXPECT_EQ(cells.numCells(), 470);
  EXPECT_EQ(cells.fileOf(299), 0);
  EXPECT_EQ(cells.fileOf(300), 1);
  EXPECT_THROW(cells.fileOf(470), Error);
  // The in-memory equivalent: both files aligned and stacked, one dataset.
  const auto pa = prepareCells(files().a, modelGenes()), pb = prepareCells(files().b, modelGenes());
  CsrMatrix stacked = pa->matrix;
  for (int64_t r = 0; r < pb->matrix.rows; ++r) {
    for (int64_t k = pb->matrix.indptr[r]; k < pb->matrix.indptr[r + 1]; ++k) {
      stacked.indices.push_back(pb->matrix.indices[k]);
      stacked.data.push_back(pb->matrix.data[k]);
    }
    stacked.indptr.push_back(stacked.nnz());
  }
  stacked.rows += pb->matrix.rows;
  CellSource memory;
  memory.matrix = &stacked;
  const std::vector<int64_t> ids{469, 3, 300, 150, 299, 17};
  std::vector<CellRef> expectedRefs;
  for (int64_t id : ids) expectedRefs.push_back({&memory, id});
  const auto& tokenizer = tokenizers().at("screformer");
  std::map<Key, CellTokens> expected, got;
  collect(tokenizer(expectedRefs, 1), expected);
  const auto streamed = cells.cells(ids);
  collect(tokenizer(streamed.refs, 1), got);
  EXPECT_TRUE(got == expected);
  // Six chunks (0, 1, 9, 18 of a; 19, 29 overall for b): the cache keeps three, the batch
  // holds on to all six while it is used.
  EXPECT_EQ(streamed.chunks.size(), 6u);
  EXPECT_EQ(cells.chunksRead(), 6);
  // Cached now: the three most recently used, chunks 1, 18 and 9.
  cells.cells({3, 17});  // chunk 0 was dropped: read again (and chunk 9 leaves)
  EXPECT_EQ(cells.chunksRead(), 7);
  cells.cells({17, 3, 299});  // chunks 1, 0, 18: all cached
  EXPECT_EQ(cells.chunksRead(), 7);
}

TEST(StreamedCells, LocalOrderVisitsChunkByChunk) {
  const BackedCorpus corpus({files().pathA, files().pathB}, modelGenes());
  const StreamedCells cells(corpus, {16, 4});
  std::vector<int64_t> train;
  for (int64_t c = 0; c < 470; c += 2) train.push_back(c);
  const auto order = cells.localOrder(train, 9, 1, 2);
  EXPECT_EQ(order, cells.localOrder(train, 9, 1, 2));
  EXPECT_NE(order, cells.localOrder(train, 9, 2, 2));
  EXPECT_NE(order, cells.localOrder(train, 10, 1, 2));
  auto sorted = order;
  std::sort(sorted.begin(), sorted.end());
  EXPECT_EQ(sorted, train);
  // Chunk of a cell: file a has chunks 0..18 (16 cells each), file b starts at chunk 19.
  auto chunkOf = [](int64_t c) { return c < 300 ? c / 16 : 19 + (c - 300) / 16; };
  // Each window of two chunks: its cells come first, in any order, before the next window's.
  size_t i = 0;
  while (i < order.size()) {
    std::set<int64_t> window;
    size_t j = i;
    while (j < order.size() && (window.size() < 2 || window.count(chunkOf(order[j])))) window.insert(chunkOf(order[j++]));
    for (size_t k = j; k < order.size(); ++k) EXPECT_EQ(window.count(chunkOf(order[k])), 0u);
    i = j;
  }
}

}  // namespace
}  // namespace cw::tokenize
