#include "cellwright/tokenize/backed_loader.h"

#include <algorithm>
#include <numeric>
#include <set>

#include "cellwright/core/errors.h"

namespace cw::tokenize {
namespace {

// Codes of one obs column in every file, against one order shared by the corpus (the
// sorted union of the files' values when `order` is empty).
void codeColumnAcross(std::vector<BackedFile>& files, const std::string& column, std::vector<std::string>& order,
                      std::vector<int64_t> BackedFile::*codes, int64_t BackedFile::*unknown) {
  for (const auto& f : files)
    if (!f.data->obs().has(column))
      throw Error("'" + f.path.filename().string() + "' has no obs column '" + column + "'");
  if (order.empty()) {
    std::set<std::string> values;
    for (const auto& f : files) {
      const Column& c = f.data->obs().at(column);
      for (size_t i = 0; i < c.size(); ++i)
        if (auto v = c.valueAsString(i); !v.empty()) values.insert(std::move(v));
    }
    order.assign(values.begin(), values.end());
  }
  std::map<std::string, int64_t> index;
  for (size_t i = 0; i < order.size(); ++i) index.emplace(order[i], static_cast<int64_t>(i));
  for (auto& f : files) {
    const Column& c = f.data->obs().at(column);
    auto& out = f.*codes;
    out.assign(c.size(), -1);
    for (size_t i = 0; i < c.size(); ++i) {
      auto it = index.find(c.valueAsString(i));
      if (it == index.end()) ++(f.*unknown);
      else out[i] = it->second;
    }
  }
}

bool firstCellsLookLikeCounts(const io::BackedDataset& data, int64_t cells) {
  return looksLikeCounts(data.readRows(0, std::min(cells, data.nObs())));
}

// Opens `path` on the matrix holding raw counts when there is one: `requested`, or by
// default layers/counts, else X, else raw/X when it has the same genes as X.
std::unique_ptr<io::BackedDataset> openCounts(const std::filesystem::path& path, const std::string& requested,
                                              int64_t checkCells, bool& logNormalized) {
  io::BackedOptions o;
  o.matrix = requested;
  auto data = std::make_unique<io::BackedDataset>(path, o);
  logNormalized = !firstCellsLookLikeCounts(*data, checkCells);
  if (!logNormalized || !requested.empty() || data->matrixName() != "X") return data;
  try {
    o.matrix = "raw/X";
    auto raw = std::make_unique<io::BackedDataset>(path, o);
    if (raw->var().index == data->var().index && firstCellsLookLikeCounts(*raw, checkCells)) {
      logNormalized = false;
      return raw;
    }
  } catch (const Error&) {
    // No usable raw/X: X is used as log-normalised values.
  }
  return data;
}

}  // namespace

size_t CellChunk::bytes() const {
  return matrix.indptr.size() * sizeof(int64_t) + matrix.indices.size() * sizeof(int32_t) +
         matrix.data.size() * sizeof(float) + (source.labels.size() + source.studies.size()) * sizeof(int64_t);
}

BackedCorpus::BackedCorpus(const std::vector<std::filesystem::path>& files, preprocess::GeneVocabulary vocabulary,
                           const BackedCorpusOptions& options, Feedback* feedback)
    : vocabulary_(std::move(vocabulary)), classes_(options.classes), studies_(options.studies) {
  if (files.empty()) throw Error("no data files were given");
  if (vocabulary_.size() == 0) throw Error("the model has no genes");
  for (const auto& path : files) {
    pollCancel(feedback);
    BackedFile f;
    f.path = path;
    f.data = openCounts(path, options.matrix, std::max<int64_t>(1, options.countsCheckCells), f.valuesAreLogNormalized);
    Dataset genesOnly;
    genesOnly.var = f.data->var();
    f.alignment = preprocess::alignToVocabulary(genesOnly, vocabulary_);
    const std::string name = path.filename().string();
    if (f.alignment.matched == 0)
      throw Error("'" + name + "': none of the model's " + std::to_string(vocabulary_.size()) +
                  " genes is in the data (" + f.alignment.summary() + ")");
    if (feedback) {
      feedback->info(name + " (" + std::to_string(f.data->nObs()) + " cells, streamed from '" + f.data->matrixName() +
                     "'" + (f.valuesAreLogNormalized ? ", log-normalised values" : ", raw counts") +
                     "): " + f.alignment.summary());
      if (f.alignment.unknown > 0)
        feedback->warning(name + ": " + std::to_string(f.alignment.unknown) +
                          " genes are not in the model's vocabulary and are left out");
    }
    files_.push_back(std::move(f));
  }
  if (!options.labelColumn.empty())
    codeColumnAcross(files_, options.labelColumn, classes_, &BackedFile::labels, &BackedFile::unknownLabels);
  if (!options.studyColumn.empty())
    codeColumnAcross(files_, options.studyColumn, studies_, &BackedFile::studies, &BackedFile::unknownStudies);
}

int64_t BackedCorpus::numCells() const {
  int64_t n = 0;
  for (const auto& f : files_) n += f.data->nObs();
  return n;
}

std::shared_ptr<CellChunk> BackedCorpus::readChunk(int64_t file, int64_t firstRow, int64_t count) const {
  const BackedFile& f = files_.at(static_cast<size_t>(file));
  auto chunk = std::make_shared<CellChunk>();
  chunk->matrix = preprocess::alignMatrix(f.data->readRows(firstRow, count), f.alignment);
  CellSource& s = chunk->source;
  s.matrix = &chunk->matrix;
  s.valuesAreLogNormalized = f.valuesAreLogNormalized;
  s.datasetIndex = file;
  s.firstRow = firstRow;
  auto slice = [&](const std::vector<int64_t>& codes) {
    return codes.empty() ? std::vector<int64_t>()
                         : std::vector<int64_t>(codes.begin() + firstRow, codes.begin() + firstRow + count);
  };
  s.labels = slice(f.labels);
  s.studies = slice(f.studies);
  return chunk;
}

// ---------------------------------------------------------------------------------------

BackedBatchLoader::BackedBatchLoader(const BackedCorpus& corpus, BatchTokenizer tokenizer, BackedLoaderOptions options)
    : corpus_(corpus), tokenizer_(std::move(tokenizer)), options_(options) {
  if (options_.batchSize <= 0) throw Error("batch size must be positive");
  if (options_.cellsPerChunk <= 0 || options_.chunksPerWindow <= 0)
    throw Error("chunks and windows must hold at least one cell");
  if (!tokenizer_) throw Error("the loader needs a tokenizer");
  options_.workers = std::max(0, options_.workers);
  options_.prefetchBatches = std::max(1, options_.prefetchBatches);
  options_.windowsAhead = std::max(0, options_.windowsAhead);
  const auto& files = corpus_.files();
  for (size_t f = 0; f < files.size(); ++f)
    for (int64_t start = 0; start < files[f].data->nObs(); start += options_.cellsPerChunk)
      chunks_.push_back({static_cast<int64_t>(f), start, std::min(options_.cellsPerChunk, files[f].data->nObs() - start)});
}

BackedBatchLoader::~BackedBatchLoader() { stopThreads(); }

int64_t BackedBatchLoader::batchesPerEpoch() const {
  const int64_t n = numCells(), b = options_.batchSize;
  return options_.dropLast ? n / b : (n + b - 1) / b;
}

std::vector<BackedBatchLoader::Window> BackedBatchLoader::planEpoch(uint64_t epoch) const {
  std::vector<ChunkKey> keys = chunks_;
  if (options_.shuffle) {
    Rng rng = cellRng(options_.seed, epoch, -2, -2);
    for (int64_t i = static_cast<int64_t>(keys.size()) - 1; i > 0; --i)
      std::swap(keys[i], keys[rng.below(static_cast<uint64_t>(i + 1))]);
  }
  std::vector<Window> windows;
  int64_t position = 0;
  for (size_t i = 0; i < keys.size(); i += static_cast<size_t>(options_.chunksPerWindow)) {
    Window w;
    w.begin = position;
    for (size_t j = i; j < std::min(keys.size(), i + static_cast<size_t>(options_.chunksPerWindow)); ++j) {
      w.chunks.push_back(keys[j]);
      w.size += keys[j].count;
    }
    position += w.size;
    windows.push_back(std::move(w));
  }
  return windows;
}

namespace {
// Position i of window w holds the window's cell perm[i] (cells numbered chunk by chunk).
std::vector<int64_t> windowPermutation(int64_t size, bool shuffle, uint64_t seed, uint64_t epoch, int64_t w) {
  std::vector<int64_t> perm(static_cast<size_t>(size));
  std::iota(perm.begin(), perm.end(), 0);
  if (shuffle) {
    Rng rng = cellRng(seed, epoch, -3, w);
    for (int64_t i = size - 1; i > 0; --i) std::swap(perm[i], perm[rng.below(static_cast<uint64_t>(i + 1))]);
  }
  return perm;
}
}  // namespace

std::vector<std::pair<int64_t, int64_t>> BackedBatchLoader::epochCells(uint64_t epoch) const {
  std::vector<std::pair<int64_t, int64_t>> out;
  const auto plan = planEpoch(epoch);
  for (size_t w = 0; w < plan.size(); ++w) {
    std::vector<std::pair<int64_t, int64_t>> cells;
    for (const auto& c : plan[w].chunks)
      for (int64_t r = 0; r < c.count; ++r) cells.emplace_back(c.file, c.firstRow + r);
    for (int64_t i : windowPermutation(plan[w].size, options_.shuffle, options_.seed, epoch, static_cast<int64_t>(w)))
      out.push_back(cells[i]);
  }
  return out;
}

BackedBatchLoader::LoadedWindow BackedBatchLoader::readWindow(int64_t w) const {
  LoadedWindow loaded;
  std::vector<CellRef> cells;
  for (const auto& c : plan_[w].chunks) {
    loaded.chunks.push_back(corpus_.readChunk(c.file, c.firstRow, c.count));
    loaded.bytes += loaded.chunks.back()->bytes();
    for (int64_t r = 0; r < c.count; ++r) cells.push_back({&loaded.chunks.back()->source, c.firstRow + r});
  }
  for (int64_t i : windowPermutation(plan_[w].size, options_.shuffle, options_.seed, epoch_, w))
    loaded.order.push_back(cells[i]);
  return loaded;
}

int64_t BackedBatchLoader::windowOfPosition(int64_t position) const {
  auto it = std::upper_bound(plan_.begin(), plan_.end(), position,
                             [](int64_t p, const Window& w) { return p < w.begin; });
  return static_cast<int64_t>(it - plan_.begin()) - 1;
}

std::pair<int64_t, int64_t> BackedBatchLoader::windowsOfBatch(int64_t index) const {
  const int64_t begin = index * options_.batchSize;
  const int64_t end = std::min(begin + options_.batchSize, numCells());
  return {windowOfPosition(begin), windowOfPosition(end - 1)};
}

int64_t BackedBatchLoader::pendingOf(int64_t w) const {
  if (nBatches_ == 0) return 0;
  const int64_t b = options_.batchSize;
  const int64_t first = plan_[w].begin / b;
  const int64_t last = std::min((plan_[w].begin + plan_[w].size - 1) / b, nBatches_ - 1);
  return std::max<int64_t>(0, last - first + 1);
}

void BackedBatchLoader::publishWindow(int64_t w, LoadedWindow loaded) {
  ++windowsLoaded_;
  ++stats_.windowsRead;
  loaded.pendingBatches = pendingOf(w);
  if (loaded.pendingBatches == 0) return;  // only cells that dropLast leaves out
  heldCells_ += plan_[w].size;
  heldBytes_ += loaded.bytes;
  loaded_.emplace(w, std::move(loaded));
  stats_.peakCells = std::max(stats_.peakCells, heldCells_);
  stats_.peakBytes = std::max(stats_.peakBytes, heldBytes_);
  stats_.peakWindows = std::max(stats_.peakWindows, static_cast<int64_t>(loaded_.size()));
}

std::vector<CellRef> BackedBatchLoader::takeJob(int64_t index) {
  std::vector<CellRef> cells;
  const int64_t begin = index * options_.batchSize;
  const int64_t end = std::min(begin + options_.batchSize, numCells());
  int64_t w = windowOfPosition(begin);
  for (int64_t p = begin; p < end; ++p) {
    while (p >= plan_[w].begin + plan_[w].size) ++w;
    cells.push_back(loaded_.at(w).order[static_cast<size_t>(p - plan_[w].begin)]);
  }
  return cells;
}

void BackedBatchLoader::finishJob(int64_t index) {
  const auto [first, last] = windowsOfBatch(index);
  for (int64_t w = first; w <= last; ++w) {
    auto it = loaded_.find(w);
    if (it == loaded_.end() || --it->second.pendingBatches > 0) continue;
    heldCells_ -= plan_[w].size;
    heldBytes_ -= it->second.bytes;
    loaded_.erase(it);
  }
}

void BackedBatchLoader::stopThreads() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  windowWanted_.notify_all();
  workAvailable_.notify_all();
  batchReady_.notify_all();
  for (auto& t : threads_) t.join();
  threads_.clear();
  stopping_ = false;
}

void BackedBatchLoader::startEpoch(uint64_t epoch) {
  stopThreads();
  std::lock_guard<std::mutex> lock(mutex_);
  plan_ = planEpoch(epoch);
  epoch_ = epoch;
  nBatches_ = batchesPerEpoch();
  nextToBuild_ = nextToHand_ = windowsLoaded_ = 0;
  loaded_.clear();
  heldCells_ = 0;
  heldBytes_ = 0;
  ready_.clear();
  error_ = nullptr;
  started_ = true;
  if (options_.workers == 0 || nBatches_ == 0) return;
  threads_.emplace_back([this] { readerLoop(); });
  for (int w = 0; w < options_.workers; ++w) threads_.emplace_back([this] { workerLoop(); });
}

void BackedBatchLoader::readerLoop() {
  std::unique_lock<std::mutex> lock(mutex_);
  const int64_t lastNeeded = windowsOfBatch(nBatches_ - 1).second;
  while (true) {
    windowWanted_.wait(lock, [&] {
      if (stopping_ || error_) return true;
      if (windowsLoaded_ > lastNeeded) return false;
      const int64_t lastBuildable = std::min(nextToHand_ + options_.prefetchBatches, nBatches_) - 1;
      return windowsLoaded_ <= windowsOfBatch(lastBuildable).second + options_.windowsAhead;
    });
    if (stopping_ || error_) return;
    const int64_t w = windowsLoaded_;
    lock.unlock();
    LoadedWindow loaded;
    std::exception_ptr failure;
    try {
      loaded = readWindow(w);
    } catch (...) {
      failure = std::current_exception();
    }
    lock.lock();
    if (failure) {
      if (!error_) error_ = failure;
      batchReady_.notify_all();
      workAvailable_.notify_all();
      return;
    }
    publishWindow(w, std::move(loaded));
    workAvailable_.notify_all();
  }
}

void BackedBatchLoader::workerLoop() {
  std::unique_lock<std::mutex> lock(mutex_);
  while (true) {
    workAvailable_.wait(lock, [&] {
      return stopping_ || error_ ||
             (nextToBuild_ < nBatches_ && nextToBuild_ < nextToHand_ + options_.prefetchBatches &&
              windowsLoaded_ > windowsOfBatch(nextToBuild_).second);
    });
    if (stopping_ || error_) return;
    const int64_t index = nextToBuild_++;
    const std::vector<CellRef> cells = takeJob(index);
    const uint64_t epoch = epoch_;
    lock.unlock();
    TokenBatch built;
    std::exception_ptr failure;
    try {
      built = tokenizer_(cells, epoch);
    } catch (...) {
      failure = std::current_exception();
    }
    lock.lock();
    finishJob(index);
    if (failure && !error_) error_ = failure;
    if (!failure) ready_.emplace(index, std::move(built));
    batchReady_.notify_all();
    windowWanted_.notify_all();
    workAvailable_.notify_all();
  }
}

std::optional<TokenBatch> BackedBatchLoader::next() {
  std::unique_lock<std::mutex> lock(mutex_);
  if (!started_) {
    lock.unlock();
    startEpoch(0);
    lock.lock();
  }
  if (nextToHand_ >= nBatches_) return std::nullopt;
  if (options_.workers == 0) {
    const int64_t index = nextToHand_++;
    const int64_t lastWindow = windowsOfBatch(index).second;
    while (windowsLoaded_ <= lastWindow) {
      const int64_t w = windowsLoaded_;
      lock.unlock();
      LoadedWindow loaded = readWindow(w);
      lock.lock();
      publishWindow(w, std::move(loaded));
    }
    const std::vector<CellRef> cells = takeJob(index);
    const uint64_t epoch = epoch_;
    lock.unlock();
    std::optional<TokenBatch> built;
    try {
      built = tokenizer_(cells, epoch);
    } catch (...) {
      lock.lock();
      finishJob(index);
      throw;
    }
    lock.lock();
    finishJob(index);
    return built;
  }
  batchReady_.wait(lock, [&] { return error_ || ready_.count(nextToHand_) != 0; });
  if (error_) std::rethrow_exception(error_);
  auto node = ready_.extract(nextToHand_);
  ++nextToHand_;
  lock.unlock();
  workAvailable_.notify_all();
  windowWanted_.notify_all();
  return std::move(node.mapped());
}

BufferStats BackedBatchLoader::bufferStats() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return stats_;
}

}  // namespace cw::tokenize
