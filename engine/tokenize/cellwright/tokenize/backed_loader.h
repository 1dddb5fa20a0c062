#pragma once
// The batch loader over files left on disk (h5ad / 10x .h5 opened backed): a corpus of one
// or several files, each aligned to the model's genes, streamed in chunks of cells so that
// memory holds a few chunks whatever the corpus size. Same tokenizers, same batches (per
// cell) and same reproducibility as the in-memory BatchLoader.
//
// Shuffling (seeded, a function of (seed, epoch) only): every file is cut into chunks of
// `cellsPerChunk` consecutive cells; the chunks of all files are shuffled together; runs of
// `chunksPerWindow` consecutive chunks of that order form windows; the cells of each window
// are shuffled; batches are consecutive cells of the windows in order (a batch may span two
// windows). A cell's neighbours in a batch thus come from up to chunksPerWindow random places
// of the corpus. Without shuffling, cells come file by file in row order, exactly as
// BatchLoader over allCells() of the same files.
//
// Threads: one reader thread reads windows ahead (HDF5 is serialised anyway), worker
// threads tokenize batches as BatchLoader's do. Memory: the windows that batches being
// built or prefetched still need, plus `windowsAhead` read in advance; bufferStats() reports
// what was held.
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "cellwright/core/feedback.h"
#include "cellwright/io/backed.h"
#include "cellwright/preprocess/vocabulary.h"
#include "cellwright/tokenize/tokenizers.h"

namespace cw::tokenize {

struct BackedCorpusOptions {
  // The matrix streamed from each file: "" = layers/counts when present, else X. A matrix
  // whose first cells are not all non-negative integers is taken as log-normalised values.
  std::string matrix;
  std::string labelColumn;           // obs column of class labels ("" = none)
  std::vector<std::string> classes;  // class order; empty = sorted values over all files
  std::string studyColumn;           // obs column of studies ("" = none)
  std::vector<std::string> studies;  // study order; empty = sorted values over all files
  int64_t countsCheckCells = 256;    // first cells read to decide counts vs log-normalised
};

// One file of the corpus, opened backed and aligned to the vocabulary. Dataset index = its
// position in the corpus (TokenBatch::datasetIndices; masking seeds).
struct BackedFile {
  std::filesystem::path path;
  std::unique_ptr<io::BackedDataset> data;
  preprocess::AlignmentResult alignment;  // matched / missing (zeros) / unknown (dropped) genes
  bool valuesAreLogNormalized = false;
  std::vector<int64_t> labels, studies;   // per cell codes (-1 unknown); empty when no column
  int64_t unknownLabels = 0, unknownStudies = 0;
};

// Cells [firstRow, firstRow + rows) of one file, aligned to the vocabulary.
struct CellChunk {
  CsrMatrix matrix;
  CellSource source;  // reads `matrix`; keep the chunk where it is (held by shared_ptr)
  size_t bytes() const;
};

class BackedCorpus {
 public:
  // Throws cw::Error when a file cannot be read or shares no gene with the vocabulary.
  // Reports each file's alignment (unknown genes counted) through `feedback`.
  BackedCorpus(const std::vector<std::filesystem::path>& files, preprocess::GeneVocabulary vocabulary,
               const BackedCorpusOptions& options = {}, Feedback* feedback = nullptr);

  int64_t nGenes() const { return vocabulary_.size(); }
  int64_t numCells() const;
  const std::vector<BackedFile>& files() const { return files_; }
  const std::vector<std::string>& classes() const { return classes_; }
  const std::vector<std::string>& studies() const { return studies_; }
  const preprocess::GeneVocabulary& vocabulary() const { return vocabulary_; }

  // Reads cells [firstRow, firstRow + count) of file `file`, aligned to the vocabulary.
  // Any thread (HDF5 reads are serialised by the io layer).
  std::shared_ptr<CellChunk> readChunk(int64_t file, int64_t firstRow, int64_t count) const;

 private:
  preprocess::GeneVocabulary vocabulary_;
  std::vector<BackedFile> files_;
  std::vector<std::string> classes_, studies_;
};

struct BackedLoaderOptions {
  int64_t batchSize = 32;
  bool shuffle = true;
  uint64_t seed = 0;
  bool dropLast = false;        // drop a final batch smaller than batchSize
  int workers = 2;              // background tokenizer threads (0 = everything on the caller's thread)
  int prefetchBatches = 4;      // batches prepared ahead of the consumer
  int64_t cellsPerChunk = 1024; // cells read from disk at once
  int64_t chunksPerWindow = 8;  // chunks whose cells are shuffled together
  int windowsAhead = 1;         // windows read before any batch needs them
};

// What the loader held in memory (aligned chunk matrices), for tests and logs.
struct BufferStats {
  int64_t peakCells = 0;
  size_t peakBytes = 0;
  int64_t peakWindows = 0;
  int64_t windowsRead = 0;  // over the loader's life
};

class BackedBatchLoader {
 public:
  // The corpus must outlive the loader.
  BackedBatchLoader(const BackedCorpus& corpus, BatchTokenizer tokenizer, BackedLoaderOptions options);
  ~BackedBatchLoader();
  BackedBatchLoader(const BackedBatchLoader&) = delete;
  BackedBatchLoader& operator=(const BackedBatchLoader&) = delete;

  int64_t numCells() const { return corpus_.numCells(); }
  int64_t batchesPerEpoch() const;

  // Starts (or restarts) an epoch: the order is a function of (seed, epoch) only.
  void startEpoch(uint64_t epoch);
  // The next batch, or nullopt when the epoch is exhausted. Rethrows a reader's or worker's
  // exception (e.g. cw::Error on a damaged file).
  std::optional<TokenBatch> next();

  // (dataset index, row) of every cell of epoch `epoch`, in the order batches take them.
  std::vector<std::pair<int64_t, int64_t>> epochCells(uint64_t epoch) const;

  BufferStats bufferStats() const;

 private:
  struct ChunkKey {
    int64_t file, firstRow, count;
  };
  struct Window {
    std::vector<ChunkKey> chunks;
    int64_t begin = 0, size = 0;  // position of its first cell in the epoch, number of cells
  };
  struct LoadedWindow {
    std::vector<std::shared_ptr<CellChunk>> chunks;
    std::vector<CellRef> order;  // the window's cells, shuffled
    int64_t pendingBatches = 0;  // batches overlapping it not yet tokenized
    size_t bytes = 0;
  };

  std::vector<Window> planEpoch(uint64_t epoch) const;
  LoadedWindow readWindow(int64_t w) const;  // no lock held
  int64_t windowOfPosition(int64_t position) const;
  std::pair<int64_t, int64_t> windowsOfBatch(int64_t index) const;
  int64_t pendingOf(int64_t w) const;
  void publishWindow(int64_t w, LoadedWindow loaded);  // under mutex_
  std::vector<CellRef> takeJob(int64_t index);         // under mutex_: the cells of a batch
  void finishJob(int64_t index);                       // under mutex_: releases finished windows
  void stopThreads();
  void readerLoop();
  void workerLoop();

  const BackedCorpus& corpus_;
  BatchTokenizer tokenizer_;
  BackedLoaderOptions options_;
  std::vector<ChunkKey> chunks_;  // file order

  mutable std::mutex mutex_;
  std::condition_variable windowWanted_, workAvailable_, batchReady_;
  std::vector<Window> plan_;
  uint64_t epoch_ = 0;
  int64_t nBatches_ = 0, nextToBuild_ = 0, nextToHand_ = 0, windowsLoaded_ = 0;
  std::map<int64_t, LoadedWindow> loaded_;
  std::map<int64_t, TokenBatch> ready_;
  std::exception_ptr error_;
  bool stopping_ = false, started_ = false;
  std::vector<std::thread> threads_;
  BufferStats stats_;
  int64_t heldCells_ = 0;
  size_t heldBytes_ = 0;
};

}  // namespace cw::tokenize
