#include "cellwright/tokenize/loader.h"

#include <algorithm>
#include <numeric>

#include "cellwright/core/errors.h"

namespace cw::tokenize {

std::vector<CellRef> allCells(const std::vector<const CellSource*>& sources) {
  std::vector<CellRef> cells;
  for (const CellSource* s : sources)
    for (int64_t r = 0; r < s->matrix->rows; ++r) cells.push_back({s, s->firstRow + r});
  return cells;
}

BatchLoader::BatchLoader(std::vector<CellRef> cells, BatchTokenizer tokenizer, LoaderOptions options)
    : cells_(std::move(cells)), tokenizer_(std::move(tokenizer)), options_(options) {
  if (options_.batchSize <= 0) throw Error("batch size must be positive");
  if (!tokenizer_) throw Error("the loader needs a tokenizer");
  options_.workers = std::max(0, options_.workers);
  options_.prefetchBatches = std::max(1, options_.prefetchBatches);
}

BatchLoader::~BatchLoader() { stopWorkers(); }

int64_t BatchLoader::batchesPerEpoch() const {
  const int64_t n = numCells(), b = options_.batchSize;
  return options_.dropLast ? n / b : (n + b - 1) / b;
}

std::vector<int64_t> BatchLoader::epochOrder(uint64_t epoch) const {
  std::vector<int64_t> order(cells_.size());
  std::iota(order.begin(), order.end(), 0);
  if (options_.shuffle) {
    Rng rng = cellRng(options_.seed, epoch, -1, -1);
    for (int64_t i = static_cast<int64_t>(order.size()) - 1; i > 0; --i)
      std::swap(order[i], order[rng.below(static_cast<uint64_t>(i + 1))]);
  }
  return order;
}

std::vector<CellRef> BatchLoader::batchCells(uint64_t epoch, int64_t index) const {
  const std::vector<int64_t> order = epochOrder(epoch);
  std::vector<CellRef> batch;
  const int64_t begin = index * options_.batchSize;
  const int64_t end = std::min<int64_t>(begin + options_.batchSize, numCells());
  for (int64_t i = begin; i < end; ++i) batch.push_back(cells_[order[i]]);
  return batch;
}

std::vector<CellRef> BatchLoader::cellsOfBatch(int64_t index) const {
  std::vector<CellRef> batch;
  const int64_t begin = index * options_.batchSize;
  const int64_t end = std::min<int64_t>(begin + options_.batchSize, numCells());
  for (int64_t i = begin; i < end; ++i) batch.push_back(cells_[order_[i]]);
  return batch;
}

void BatchLoader::stopWorkers() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  workAvailable_.notify_all();
  for (auto& t : threads_) t.join();
  threads_.clear();
  stopping_ = false;
}

void BatchLoader::startEpoch(uint64_t epoch) {
  stopWorkers();
  std::lock_guard<std::mutex> lock(mutex_);
  order_ = epochOrder(epoch);
  epoch_ = epoch;
  nBatches_ = batchesPerEpoch();
  nextToBuild_ = 0;
  nextToHand_ = 0;
  ready_.clear();
  error_ = nullptr;
  started_ = true;
  for (int w = 0; w < options_.workers; ++w) threads_.emplace_back([this] { workerLoop(); });
}

void BatchLoader::workerLoop() {
  std::unique_lock<std::mutex> lock(mutex_);
  while (true) {
    workAvailable_.wait(lock, [&] {
      return stopping_ || (nextToBuild_ < nBatches_ && nextToBuild_ < nextToHand_ + options_.prefetchBatches);
    });
    if (stopping_) return;
    const int64_t index = nextToBuild_++;
    std::vector<CellRef> batch = cellsOfBatch(index);
    const uint64_t epoch = epoch_;
    lock.unlock();
    TokenBatch built;
    std::exception_ptr failure;
    try {
      built = tokenizer_(batch, epoch);
    } catch (...) {
      failure = std::current_exception();
    }
    lock.lock();
    if (failure && !error_) error_ = failure;
    if (!failure) ready_.emplace(index, std::move(built));
    batchReady_.notify_all();
  }
}

std::optional<TokenBatch> BatchLoader::next() {
  std::unique_lock<std::mutex> lock(mutex_);
  if (!started_) {
    lock.unlock();
    startEpoch(0);
    lock.lock();
  }
  if (nextToHand_ >= nBatches_) return std::nullopt;
  if (options_.workers == 0) {
    const int64_t index = nextToHand_++;
    const uint64_t epoch = epoch_;
    std::vector<CellRef> batch = cellsOfBatch(index);
    lock.unlock();
    return tokenizer_(batch, epoch);
  }
  batchReady_.wait(lock, [&] { return error_ || ready_.count(nextToHand_) != 0; });
  if (error_) std::rethrow_exception(error_);
  auto node = ready_.extract(nextToHand_);
  ++nextToHand_;
  lock.unlock();
  workAvailable_.notify_all();
  return std::move(node.mapped());
}

}  // namespace cw::tokenize
