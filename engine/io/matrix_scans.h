#pragma once
// Private to engine_io: the validation passes over every stored value and column index of a
// matrix. They run either over whole arrays (threaded) or piece by piece while a reader fills
// the arrays (see parallel_read.h), when the data is still in cache.
#include <climits>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <vector>

namespace cw::io {

// NaN/Inf, negative and non-whole values.
struct ValueScan {
  int64_t nonFinite = 0, negative = 0, nonInteger = 0;
  void add(const ValueScan& other);
};
ValueScan scanValueRange(const float* values, size_t count);
ValueScan scanValues(const std::vector<float>& values);  // threaded

// Range of column indices and how often an index fails to increase within its row.
struct IndexScan {
  int32_t lo = INT32_MAX, hi = INT32_MIN;
  int64_t descents = 0;
  void add(const IndexScan& other);
};
// Rows [rowBegin, rowEnd) of a CSR structure.
IndexScan scanIndexRows(const int64_t* indptr, const int32_t* indices, int64_t rowBegin, int64_t rowEnd);

// Smallest and largest of `indices` (descents not counted), threaded for large arrays.
IndexScan indexRange(const std::vector<int32_t>& indices);

// Collects an IndexScan from pieces of the index array scanned as they are read, in any order
// and on any thread, ignoring rows; result() then corrects for row boundaries.
class PiecewiseIndexScan {
 public:
  void addPiece(const int32_t* piece, int64_t begin, int64_t end);  // thread-safe
  // The scan scanIndexRows would give over all rows; `indptr` must already be validated.
  IndexScan result(const std::vector<int64_t>& indptr, const std::vector<int32_t>& indices) const;

 private:
  mutable std::mutex mutex_;
  IndexScan sum_;
  std::vector<int64_t> pieceStarts_;
};

// Sums per-piece value scans from worker threads.
class PiecewiseValueScan {
 public:
  void addPiece(const float* piece, int64_t count);  // thread-safe
  ValueScan result() const;

 private:
  mutable std::mutex mutex_;
  ValueScan sum_;
};

}  // namespace cw::io
