#include "cellwright/tokenize/streamed_cells.h"

#include <algorithm>
#include <map>

#include "cellwright/core/errors.h"

namespace cw::tokenize {

StreamedCells::StreamedCells(const BackedCorpus& corpus, StreamedCellsOptions options)
    : corpus_(corpus), options_(options) {
  if (options_.cellsPerChunk <= 0) throw Error("chunks must hold at least one cell");
  options_.maxCachedChunks = std::max<int64_t>(1, options_.maxCachedChunks);
  int64_t chunks = 0;
  for (const auto& f : corpus_.files()) {
    firstChunk_.push_back(chunks);
    chunks += (f.data->nObs() + options_.cellsPerChunk - 1) / options_.cellsPerChunk;
    offsets_.push_back(offsets_.back() + f.data->nObs());
  }
}

int64_t StreamedCells::fileOf(int64_t cell) const {
  if (cell < 0 || cell >= numCells())
    throw Error("cell " + std::to_string(cell) + " is outside the " + std::to_string(numCells()) + " cells of the data");
  return static_cast<int64_t>(std::upper_bound(offsets_.begin(), offsets_.end(), cell) - offsets_.begin()) - 1;
}

std::shared_ptr<CellChunk> StreamedCells::chunk(int64_t id) {
  if (auto it = cache_.find(id); it != cache_.end()) {
    recent_.splice(recent_.begin(), recent_, it->second.second);
    return it->second.first;
  }
  const auto file = static_cast<int64_t>(std::upper_bound(firstChunk_.begin(), firstChunk_.end(), id) - firstChunk_.begin()) - 1;
  const int64_t firstRow = (id - firstChunk_[file]) * options_.cellsPerChunk;
  const int64_t count = std::min(options_.cellsPerChunk, corpus_.files()[file].data->nObs() - firstRow);
  auto loaded = corpus_.readChunk(file, firstRow, count);
  // Numbered as one dataset over all files (see the header).
  loaded->source.datasetIndex = 0;
  loaded->source.firstRow = offsets_[file] + firstRow;
  ++chunksRead_;
  recent_.push_front(id);
  cache_.emplace(id, std::make_pair(loaded, recent_.begin()));
  cachedBytes_ += loaded->bytes();
  peakBytes_ = std::max(peakBytes_, cachedBytes_);
  while (static_cast<int64_t>(cache_.size()) > options_.maxCachedChunks) {
    auto old = cache_.find(recent_.back());
    cachedBytes_ -= old->second.first->bytes();
    cache_.erase(old);
    recent_.pop_back();
  }
  return loaded;
}

StreamedCells::Cells StreamedCells::cells(const std::vector<int64_t>& corpusCells) {
  Cells out;
  out.refs.reserve(corpusCells.size());
  std::lock_guard<std::mutex> lock(mutex_);
  for (int64_t c : corpusCells) {
    const int64_t file = fileOf(c);
    const int64_t id = firstChunk_[file] + (c - offsets_[file]) / options_.cellsPerChunk;
    auto data = chunk(id);
    out.refs.push_back({&data->source, c});
    if (std::find(out.chunks.begin(), out.chunks.end(), data) == out.chunks.end()) out.chunks.push_back(std::move(data));
  }
  return out;
}

std::vector<int64_t> StreamedCells::localOrder(const std::vector<int64_t>& cells, uint64_t seed, uint64_t epoch,
                                               int64_t chunksPerWindow) const {
  std::map<int64_t, std::vector<int64_t>> byChunk;
  for (int64_t c : cells) {
    const int64_t file = fileOf(c);
    byChunk[firstChunk_[file] + (c - offsets_[file]) / options_.cellsPerChunk].push_back(c);
  }
  std::vector<const std::vector<int64_t>*> chunks;
  for (const auto& [id, members] : byChunk) chunks.push_back(&members);
  Rng rng = cellRng(seed, epoch, -4, -4);
  for (int64_t i = static_cast<int64_t>(chunks.size()) - 1; i > 0; --i)
    std::swap(chunks[i], chunks[rng.below(static_cast<uint64_t>(i + 1))]);
  std::vector<int64_t> order;
  order.reserve(cells.size());
  const auto step = static_cast<size_t>(std::max<int64_t>(1, chunksPerWindow));
  for (size_t w = 0; w * step < chunks.size(); ++w) {
    const size_t begin = order.size();
    for (size_t j = w * step; j < std::min(chunks.size(), (w + 1) * step); ++j)
      order.insert(order.end(), chunks[j]->begin(), chunks[j]->end());
    Rng window = cellRng(seed, epoch, -5, static_cast<int64_t>(w));
    for (size_t i = order.size() - 1; i > begin; --i)
      std::swap(order[i], order[begin + window.below(static_cast<uint64_t>(i - begin + 1))]);
  }
  return order;
}

int64_t StreamedCells::chunksRead() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return chunksRead_;
}

size_t StreamedCells::peakCachedBytes() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return peakBytes_;
}

}  // namespace cw::tokenize
