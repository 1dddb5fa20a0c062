// Pre-training over files streamed from disk: the steps of pretrain() with the matrices
// left in the files (see pretrain.h).
#include <algorithm>
#include <memory>
#include <random>
#include <tuple>

#include "cellwright/core/errors.h"
#include "cellwright/io/backed.h"
#include "cellwright/tokenize/streamed_cells.h"
#include "cellwright/train/model_data.h"
#include "cellwright/train/pretrain.h"
#include "pretrain_parts.h"

namespace cw::train {
namespace fs = std::filesystem;
namespace {

// obs and var of each file, with an empty matrix of the file's shape (nObs() counts cells).
std::vector<Dataset> readHeaders(const std::vector<fs::path>& files) {
  std::vector<Dataset> headers;
  for (const auto& path : files) {
    const io::BackedDataset backed(path, {});
    Dataset d;
    d.obs = backed.obs();
    d.var = backed.var();
    d.X.rows = backed.nObs();
    d.X.cols = backed.nVars();
    d.X.indptr.assign(static_cast<size_t>(d.X.rows + 1), 0);
    headers.push_back(std::move(d));
  }
  return headers;
}

// A seeded sample of up to `maxCells` training cells, aligned to the union of genes, as
// one dataset: what the highly variable genes are chosen on.
Dataset hvgSample(const tokenize::BackedCorpus& corpus, const tokenize::StreamedCells& cells,
                  const std::vector<int64_t>& train, int64_t maxCells, uint64_t seed) {
  std::vector<int64_t> sample = train;
  if (static_cast<int64_t>(sample.size()) > maxCells) {
    std::mt19937_64 rng(seed ^ 0x5EEDULL);
    std::shuffle(sample.begin(), sample.end(), rng);
    sample.resize(static_cast<size_t>(std::max<int64_t>(1, maxCells)));
    std::sort(sample.begin(), sample.end());
  }
  std::vector<std::vector<int64_t>> rowsOfFile(corpus.files().size());
  int64_t offset = 0;
  std::vector<int64_t> offsets;
  for (const auto& f : corpus.files()) {
    offsets.push_back(offset);
    offset += f.data->nObs();
  }
  for (int64_t c : sample) {
    const int64_t f = cells.fileOf(c);
    rowsOfFile[static_cast<size_t>(f)].push_back(c - offsets[static_cast<size_t>(f)]);
  }
  std::vector<CsrMatrix> parts;
  bool allCounts = true;
  for (size_t f = 0; f < rowsOfFile.size(); ++f) {
    if (rowsOfFile[f].empty()) continue;
    const auto& file = corpus.files()[f];
    parts.push_back(preprocess::alignMatrix(file.data->readRows(rowsOfFile[f]), file.alignment));
    allCounts = allCounts && !file.valuesAreLogNormalized;
  }
  std::vector<const CsrMatrix*> pointers;
  for (const auto& m : parts) pointers.push_back(&m);
  Dataset d;
  d.X = stackRows(pointers);
  d.var.index = corpus.vocabulary().genes();
  for (int64_t i = 0; i < d.X.rows; ++i) d.obs.index.push_back(std::to_string(i));
  d.countsSource = allCounts ? CountsSource::X : CountsSource::None;
  return d;
}

torch::Tensor codesOf(const std::vector<int64_t>& codes, const std::vector<int64_t>& cells) {
  std::vector<int64_t> picked;
  picked.reserve(cells.size());
  for (auto c : cells) picked.push_back(codes.empty() ? -1 : codes[static_cast<size_t>(c)]);
  return torch::tensor(picked, torch::kLong);
}

}  // namespace

PretrainResult pretrainStreamed(const std::vector<fs::path>& files, const PretrainOptions& options, Feedback* feedback) {
  if (files.empty()) throw Error("no data to pre-train on");
  PretrainResult result;
  const auto model = detail::resolvePretrainModel(options, result);
  const std::vector<Dataset> headers = readHeaders(files);
  std::vector<const Dataset*> pointers;
  for (const auto& h : headers) {
    if (!options.labelKey.empty() && !h.obs.has(options.labelKey))
      throw Error("the data has no obs column '" + options.labelKey + "' (--label)");
    pointers.push_back(&h);
  }

  const bool writer = !options.trainer.communicator || options.trainer.communicator->rank() == 0;
  if (writer) prepareRunFolder(options.runDir, {options.force, options.resume});
  RunFeedback run(writer ? options.runDir / "log.txt" : fs::path(), feedback);
  run.info("streaming the matrices from disk in chunks of " + std::to_string(options.streamCellsPerChunk) + " cells");

  detail::PretrainInputs inputs;
  for (const auto& h : headers) inputs.cellNames.insert(inputs.cellNames.end(), h.obs.index.begin(), h.obs.index.end());
  std::tie(inputs.train, inputs.validation) = detail::splitCells(static_cast<int64_t>(inputs.cellNames.size()),
                                                                 options.validationFraction, options.trainer.seed);
  const tokenize::StreamedCellsOptions cacheOptions{options.streamCellsPerChunk, 2 * options.streamChunksPerWindow + 2};

  // The model's genes: the union of the files' genes, or its most variable ones.
  const auto unionGenes = preprocess::buildVocabulary(pointers);
  inputs.genes = unionGenes;
  if (model.spec.genes == plugins::GeneSelection::HighlyVariable && model.spec.nHighlyVariable > 0 &&
      model.spec.nHighlyVariable < unionGenes.size()) {
    const tokenize::BackedCorpus all(files, unionGenes);
    const tokenize::StreamedCells cells(all, cacheOptions);
    const Dataset sample = hvgSample(all, cells, inputs.train, options.streamHvgSampleCells, options.trainer.seed);
    run.info("highly variable genes from " + std::to_string(sample.nObs()) + " training cells");
    std::vector<int64_t> every(static_cast<size_t>(sample.nObs()));
    for (size_t i = 0; i < every.size(); ++i) every[i] = static_cast<int64_t>(i);
    inputs.genes = chooseGenes(sample, model.spec, every);
  }
  run.throwIfCanceled();

  auto corpus = std::make_shared<tokenize::BackedCorpus>(files, inputs.genes, tokenize::BackedCorpusOptions{}, run.get());
  auto cells = std::make_shared<tokenize::StreamedCells>(*corpus, cacheOptions);
  auto [labelCodes, labelNames] = detail::codesAcross(pointers, options.labelKey, {});
  auto [studyCodes, studyNames] = detail::codesAcross(pointers, options.batchKey, detail::inputNames(options, files.size()));
  if (options.labelKey.empty()) labelCodes.clear();
  inputs.studyNames = studyNames;
  inputs.nClasses = options.labelKey.empty() ? 0 : static_cast<int64_t>(labelNames.size());
  auto tokenizer = makeTokenizer(model.spec, inputs.genes.size(), /*masking=*/true, options.trainer.seed);
  inputs.collate = [corpus, cells, tokenizer, labels = labelCodes, studies = studyCodes](
                       const std::vector<int64_t>& ids, uint64_t epoch) {
    const auto refs = cells->cells(ids);
    auto batch = tokenizer(refs.refs, epoch);
    batch.labels = codesOf(labels, ids);
    batch.studies = codesOf(studies, ids);
    batch.cellIndices = ids;
    return batch;
  };
  const uint64_t seed = options.trainer.seed;
  const int64_t window = options.streamChunksPerWindow;
  inputs.trainOrder = [cells, train = inputs.train, seed, window](int epoch) {
    return cells->localOrder(train, seed, static_cast<uint64_t>(epoch), window);
  };
  inputs.extraConfig = {{"streamed", true}};
  detail::trainAndRecord(options, model, inputs, result, run, writer);
  run.info("streamed " + std::to_string(cells->chunksRead()) + " chunks; at most " +
           std::to_string(cells->peakCachedBytes() >> 20) + " MiB of them held at once");
  return result;
}

}  // namespace cw::train
