#pragma once
// Random access to the cells of a backed corpus for callers that choose the cells of each
// batch themselves (the trainer): cells are numbered across the files (file 0's cells, then
// file 1's ...), read in chunks of consecutive cells and kept in a bounded cache of the most
// recently used chunks. Cells look like one in-memory dataset numbered the same way
// (datasetIndex 0, row = corpus-wide number), so tokens and masking match the in-memory
// path over the files stacked in order.
//
// Reading is cheap only when consecutive batches touch few chunks: localOrder() gives a
// seeded training order with that property (the chunk/window scheme of backed_loader.h).
#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <unordered_map>
#include <vector>

#include "cellwright/tokenize/backed_loader.h"

namespace cw::tokenize {

struct StreamedCellsOptions {
  int64_t cellsPerChunk = 1024;
  int64_t maxCachedChunks = 32;  // least recently used chunks beyond this are dropped
};

class StreamedCells {
 public:
  // The corpus must outlive this object.
  explicit StreamedCells(const BackedCorpus& corpus, StreamedCellsOptions options = {});

  int64_t numCells() const { return offsets_.back(); }
  int64_t fileOf(int64_t cell) const;

  // The cells, in the order given; `chunks` keeps their data alive while they are used.
  struct Cells {
    std::vector<CellRef> refs;
    std::vector<std::shared_ptr<CellChunk>> chunks;
  };
  Cells cells(const std::vector<int64_t>& corpusCells);  // any thread

  // `cells` reordered for training: grouped by chunk, chunks shuffled, then the cells of
  // each run of `chunksPerWindow` chunks shuffled. A function of (seed, epoch) only.
  std::vector<int64_t> localOrder(const std::vector<int64_t>& cells, uint64_t seed, uint64_t epoch,
                                  int64_t chunksPerWindow = 8) const;

  int64_t chunksRead() const;
  size_t peakCachedBytes() const;

 private:
  std::shared_ptr<CellChunk> chunk(int64_t id);  // under mutex_

  const BackedCorpus& corpus_;
  StreamedCellsOptions options_;
  std::vector<int64_t> offsets_{0};  // first corpus-wide cell of each file; back() = total
  std::vector<int64_t> firstChunk_;  // first chunk id of each file

  mutable std::mutex mutex_;
  std::list<int64_t> recent_;  // chunk ids, most recent first
  std::unordered_map<int64_t, std::pair<std::shared_ptr<CellChunk>, std::list<int64_t>::iterator>> cache_;
  int64_t chunksRead_ = 0;
  size_t cachedBytes_ = 0, peakBytes_ = 0;
};

}  // namespace cw::tokenize
