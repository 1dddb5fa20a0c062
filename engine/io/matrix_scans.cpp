#include "matrix_scans.h"

#include <algorithm>
#include <thread>

namespace cw::io {

void ValueScan::add(const ValueScan& other) {
  nonFinite += other.nonFinite;
  negative += other.negative;
  nonInteger += other.nonInteger;
}

void IndexScan::add(const IndexScan& other) {
  lo = std::min(lo, other.lo);
  hi = std::max(hi, other.hi);
  descents += other.descents;
}

// Branch-free blocks the compiler vectorises (a float of 2^23 or more is always whole);
// cloned for AVX2 where the CPU has it.
__attribute__((target_clones("avx2", "default"))) ValueScan scanValueRange(const float* values, size_t count) {
  ValueScan out;
  constexpr float kAllWhole = 8388608.0f;
  for (size_t start = 0; start < count; start += 4096) {
    const size_t stop = std::min(count, start + 4096);
    int32_t nonFinite = 0, negative = 0, nonInteger = 0;
    for (size_t i = start; i < stop; ++i) {
      const float x = values[i];
      const bool finite = x - x == 0.0f;
      const bool inRange = (x >= 0.0f) & (x < kAllWhole);
      const float small = inRange ? x : 0.0f;
      const bool whole = (x >= kAllWhole) | (x < 0.0f) | (static_cast<float>(static_cast<int32_t>(small)) == x);
      nonFinite += !finite;
      negative += x < 0.0f;
      nonInteger += finite & !whole;
    }
    out.nonFinite += nonFinite;
    out.negative += negative;
    out.nonInteger += nonInteger;
  }
  return out;
}

ValueScan scanValues(const std::vector<float>& values) {
  const size_t n = values.size();
  const unsigned threads = n < (size_t(1) << 22) ? 1u : std::max(1u, std::min(8u, std::thread::hardware_concurrency()));
  std::vector<ValueScan> parts(threads);
  auto scan = [&](unsigned part) {
    const size_t begin = n * part / threads, end = n * (part + 1) / threads;
    parts[part] = scanValueRange(values.data() + begin, end - begin);
  };
  std::vector<std::thread> pool;
  for (unsigned t = 1; t < threads; ++t) pool.emplace_back(scan, t);
  scan(0);
  for (auto& th : pool) th.join();
  ValueScan total;
  for (const auto& p : parts) total.add(p);
  return total;
}

__attribute__((target_clones("avx2", "default"))) IndexScan scanIndexRows(const int64_t* indptr, const int32_t* idx,
                                                                          int64_t rowBegin, int64_t rowEnd) {
  IndexScan p;
  for (int64_t r = rowBegin; r < rowEnd; ++r) {
    const int64_t begin = indptr[r], end = indptr[r + 1];
    if (begin == end) continue;
    int32_t lo = idx[begin], hi = idx[begin];
    int64_t descents = 0;
    for (int64_t k = begin + 1; k < end; ++k) {
      lo = std::min(lo, idx[k]);
      hi = std::max(hi, idx[k]);
      descents += idx[k] <= idx[k - 1];
    }
    p.lo = std::min(p.lo, lo);
    p.hi = std::max(p.hi, hi);
    p.descents += descents;
  }
  return p;
}

IndexScan indexRange(const std::vector<int32_t>& indices) {
  const auto n = static_cast<int64_t>(indices.size());
  const unsigned threads = n < (int64_t(1) << 22) ? 1u : std::max(1u, std::min(8u, std::thread::hardware_concurrency()));
  std::vector<IndexScan> parts(threads);
  auto scan = [&](unsigned t) {
    const int64_t bounds[2] = {n * t / threads, n * (t + 1) / threads};
    parts[t] = scanIndexRows(bounds, indices.data(), 0, 1);  // the part as one row
  };
  std::vector<std::thread> pool;
  for (unsigned t = 1; t < threads; ++t) pool.emplace_back(scan, t);
  scan(0);
  for (auto& th : pool) th.join();
  IndexScan total;
  for (const auto& p : parts) total.add(p);
  total.descents = 0;
  return total;
}

void PiecewiseIndexScan::addPiece(const int32_t* piece, int64_t begin, int64_t end) {
  if (end <= begin) return;
  const int64_t bounds[2] = {0, end - begin};
  const IndexScan scan = scanIndexRows(bounds, piece, 0, 1);  // the piece as one row
  std::lock_guard<std::mutex> lock(mutex_);
  sum_.add(scan);
  pieceStarts_.push_back(begin);
}

IndexScan PiecewiseIndexScan::result(const std::vector<int64_t>& indptr, const std::vector<int32_t>& indices) const {
  std::lock_guard<std::mutex> lock(mutex_);
  IndexScan out = sum_;
  const int32_t* idx = indices.data();
  const auto nnz = static_cast<int64_t>(indices.size());
  // Pieces were scanned alone: add the descents across their seams ...
  for (int64_t k : pieceStarts_)
    if (k > 0 && k < nnz) out.descents += idx[k] <= idx[k - 1];
  // ... then drop those at the first entry of each row, which scanIndexRows never counts.
  for (size_t r = 0; r + 1 < indptr.size(); ++r) {
    const int64_t k = indptr[r];
    if (k > 0 && k < indptr[r + 1]) out.descents -= idx[k] <= idx[k - 1];
  }
  return out;
}

void PiecewiseValueScan::addPiece(const float* piece, int64_t count) {
  const ValueScan scan = scanValueRange(piece, static_cast<size_t>(count));
  std::lock_guard<std::mutex> lock(mutex_);
  sum_.add(scan);
}

ValueScan PiecewiseValueScan::result() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return sum_;
}

}  // namespace cw::io
