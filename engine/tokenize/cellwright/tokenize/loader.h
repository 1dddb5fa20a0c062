#pragma once
// The batch loader: cells of one or more in-memory datasets (a corpus), shuffled per epoch
// by seed, cut into batches and tokenized by background worker threads that prefetch
// ahead of the consumer. Batches come out in a fixed order, so a run is reproducible
// whatever the number of workers. Files too large for memory: backed_loader.h streams them
// with the same tokenizers and batches.
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <map>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "cellwright/tokenize/tokenizers.h"

namespace cw::tokenize {

struct LoaderOptions {
  int64_t batchSize = 32;
  bool shuffle = true;
  uint64_t seed = 0;
  bool dropLast = false;   // drop a final batch smaller than batchSize
  int workers = 2;         // background tokenizer threads (0 = tokenize on the caller's thread)
  int prefetchBatches = 4; // batches prepared ahead of the consumer
};

class BatchLoader {
 public:
  // `cells`: the corpus (e.g. all rows of several CellSources, or a training split). The
  // sources must outlive the loader.
  BatchLoader(std::vector<CellRef> cells, BatchTokenizer tokenizer, LoaderOptions options);
  ~BatchLoader();
  BatchLoader(const BatchLoader&) = delete;
  BatchLoader& operator=(const BatchLoader&) = delete;

  int64_t numCells() const { return static_cast<int64_t>(cells_.size()); }
  int64_t batchesPerEpoch() const;

  // Starts (or restarts) an epoch: the order is a function of (seed, epoch) only.
  void startEpoch(uint64_t epoch);
  // The next batch of the current epoch, or nullopt when it is exhausted. Rethrows a
  // worker's exception (e.g. cw::Error on bad data).
  std::optional<TokenBatch> next();

  // The cells of batch `index` in epoch `epoch` (what next() will tokenize).
  std::vector<CellRef> batchCells(uint64_t epoch, int64_t index) const;

 private:
  std::vector<int64_t> epochOrder(uint64_t epoch) const;
  std::vector<CellRef> cellsOfBatch(int64_t index) const;  // from order_, under mutex_
  void stopWorkers();
  void workerLoop();

  std::vector<CellRef> cells_;
  BatchTokenizer tokenizer_;
  LoaderOptions options_;

  // Current epoch state (guarded by mutex_).
  std::mutex mutex_;
  std::condition_variable workAvailable_, batchReady_;
  std::vector<int64_t> order_;
  uint64_t epoch_ = 0;
  int64_t nBatches_ = 0;
  int64_t nextToBuild_ = 0;
  int64_t nextToHand_ = 0;
  std::map<int64_t, TokenBatch> ready_;
  std::exception_ptr error_;
  bool stopping_ = false;
  bool started_ = false;
  std::vector<std::thread> threads_;
};

// All rows of the given sources, source by source: a corpus of several datasets.
std::vector<CellRef> allCells(const std::vector<const CellSource*>& sources);

}  // namespace cw::tokenize
