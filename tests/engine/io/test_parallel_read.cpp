// Large contiguous datasets are read with pread() on worker threads and validated piece by
// piece as they land (engine/io/parallel_read.h, matrix_scans.h). These matrices are big
// enough (> 8 MB per array) to take that path, with rows of 1,024 entries so that row starts
// coincide with the 256 KiB piece seams.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>

#include "cellwright/core/errors.h"
#include "cellwright/io/readers.h"
#include "io_test_util.h"
#include <fcntl.h>
#include <unistd.h>

#include "chunk_index.h"
#include "hdf5_file.h"
#include "matrix_scans.h"

namespace fs = std::filesystem;

namespace {

constexpr int64_t kRows = 2600, kCols = 4000, kPerRow = 1024;  // 2.66M entries, 10.6 MB per array

// Row r holds columns (r + 3k) mod kCols for k < kPerRow, sorted, with value 1 + (r + k) % 7.
cw::Dataset bigDataset() {
  cw::Dataset d;
  cw::CsrMatrix& m = d.X;
  m.rows = kRows;
  m.cols = kCols;
  m.indptr.assign(1, 0);
  std::vector<std::pair<int32_t, float>> row;
  for (int64_t r = 0; r < kRows; ++r) {
    row.clear();
    for (int64_t k = 0; k < kPerRow; ++k)
      row.emplace_back(static_cast<int32_t>((r + 3 * k) % kCols), static_cast<float>(1 + (r + k) % 7));
    std::sort(row.begin(), row.end());
    for (auto& [c, v] : row) {
      m.indices.push_back(c);
      m.data.push_back(v);
    }
    m.indptr.push_back(static_cast<int64_t>(m.indices.size()));
  }
  for (int64_t i = 0; i < kRows; ++i) d.obs.index.push_back("cell" + std::to_string(i));
  for (int64_t j = 0; j < kCols; ++j) d.var.index.push_back("gene" + std::to_string(j));
  return d;
}

double sumOf(const cw::CsrMatrix& m) {
  double s = 0;
  for (float v : m.data) s += v;
  return s;
}

}  // namespace

TEST(ParallelRead, LargeMatrixReadsExactlyAndFindsUnsortedRowsAcrossPieceSeams) {
  const fs::path scratch = cwtest::scratchDir("parallel");
  cw::Dataset d = bigDataset();
  const double expectedSum = sumOf(d.X);
  // Row 64 starts exactly at the second piece (64 x 1024 entries = 256 KiB of int32): reverse
  // it, so its only out-of-order pairs straddle nothing but are inside one row; row 127 ends at
  // that piece's end: swap its last entry with the first of row 128's neighbour inside the row.
  std::reverse(d.X.indices.begin() + 64 * kPerRow, d.X.indices.begin() + 65 * kPerRow);
  std::reverse(d.X.data.begin() + 64 * kPerRow, d.X.data.begin() + 65 * kPerRow);
  std::swap(d.X.indices[128 * kPerRow - 1], d.X.indices[128 * kPerRow - 2]);
  std::swap(d.X.data[128 * kPerRow - 1], d.X.data[128 * kPerRow - 2]);
  const fs::path path = scratch / "big.h5ad";
  cw::io::writeH5ad(d, path);

  const auto read = cw::io::readDataset(path);
  const cw::CsrMatrix& m = read.dataset.X;
  ASSERT_EQ(m.nnz(), kRows * kPerRow);
  EXPECT_EQ(sumOf(m), expectedSum);
  for (int64_t r : {0L, 63L, 64L, 127L, 128L, kRows - 1}) {
    SCOPED_TRACE(r);
    for (int64_t k = m.indptr[r] + 1; k < m.indptr[r + 1]; ++k) ASSERT_LT(m.indices[k - 1], m.indices[k]);
    int64_t first = kCols;  // the smallest (r + 3k) mod kCols
    for (int64_t k = 0; k < kPerRow; ++k) first = std::min(first, (r + 3 * k) % kCols);
    EXPECT_EQ(m.indices[m.indptr[r]], static_cast<int32_t>(first));
  }
  EXPECT_EQ(read.dataset.countsSource, cw::CountsSource::X);
  fs::remove_all(scratch);
}

TEST(ParallelRead, ValueChecksSeeEveryPiece) {
  const fs::path scratch = cwtest::scratchDir("parallel_values");
  cw::Dataset d = bigDataset();
  d.X.data[d.X.data.size() - 1] = 0.5f;  // one non-integer in the last piece: not counts
  cw::io::writeH5ad(d, scratch / "fraction.h5ad");
  EXPECT_EQ(cw::io::readDataset(scratch / "fraction.h5ad").dataset.countsSource, cw::CountsSource::None);
  d.X.data[1500000] = std::nanf("");
  cw::io::writeH5ad(d, scratch / "nan.h5ad");
  try {
    cw::io::readDataset(scratch / "nan.h5ad");
    ADD_FAILURE() << "a NaN in X was accepted";
  } catch (const cw::Error& e) {
    EXPECT_NE(std::string(e.what()).find("1 NaN or infinite"), std::string::npos) << e.what();
  }
  fs::remove_all(scratch);
}

TEST(ParallelRead, PiecewiseIndexScanMatchesARowByRowCount) {
  // Random rows, some unsorted, scanned as random-length pieces in shuffled order.
  std::mt19937 rng(7);
  std::vector<int64_t> indptr{0};
  std::vector<int32_t> indices;
  int64_t expectedDescents = 0;
  int32_t lo = INT32_MAX, hi = INT32_MIN;
  for (int r = 0; r < 500; ++r) {
    const int len = static_cast<int>(rng() % 40);  // empty rows included
    const bool sorted = rng() % 4 != 0;
    std::vector<int32_t> row;
    for (int k = 0; k < len; ++k) row.push_back(static_cast<int32_t>(rng() % 1000));
    if (sorted) std::sort(row.begin(), row.end());
    for (int k = 0; k < len; ++k) {
      if (k > 0 && row[k] <= row[k - 1]) ++expectedDescents;
      lo = std::min(lo, row[k]);
      hi = std::max(hi, row[k]);
    }
    indices.insert(indices.end(), row.begin(), row.end());
    indptr.push_back(static_cast<int64_t>(indices.size()));
  }
  std::vector<std::pair<int64_t, int64_t>> pieces;
  for (int64_t begin = 0; begin < static_cast<int64_t>(indices.size());) {
    const int64_t end = std::min<int64_t>(static_cast<int64_t>(indices.size()), begin + 1 + rng() % 97);
    pieces.emplace_back(begin, end);
    begin = end;
  }
  std::shuffle(pieces.begin(), pieces.end(), rng);
  cw::io::PiecewiseIndexScan scan;
  for (auto [b, e] : pieces) scan.addPiece(indices.data() + b, b, e);
  const cw::io::IndexScan result = scan.result(indptr, indices);
  EXPECT_EQ(result.descents, expectedDescents);
  EXPECT_EQ(result.lo, lo);
  EXPECT_EQ(result.hi, hi);
}

TEST(ParallelRead, ChunkedUncompressedArraysAsAnndataWritesThem) {
  // anndata stores sparse arrays chunked but unfiltered (or gzip-compressed on request): the
  // chunks are located by walking the chunk index, then read (and inflated) in parallel. All
  // must equal the contiguous layout's read.
  const fs::path scratch = cwtest::scratchDir("parallel_chunked");
  cw::Dataset d = bigDataset();
  std::reverse(d.X.indices.begin() + 300 * kPerRow, d.X.indices.begin() + 301 * kPerRow);
  std::reverse(d.X.data.begin() + 300 * kPerRow, d.X.data.begin() + 301 * kPerRow);
  cw::io::writeH5ad(d, scratch / "contiguous.h5ad");
  const auto expected = cw::io::readDataset(scratch / "contiguous.h5ad").dataset.X;
  // Chunks of 20,000 and 1,000 elements, unfiltered; then gzip-compressed (negative size).
  for (int64_t size : {20000L, 1000L, -20000L}) {
    SCOPED_TRACE(size);
    const int64_t chunk = std::abs(size);
    const bool gzip = size < 0;
    const fs::path path = scratch / ("chunked_" + std::to_string(size) + ".h5ad");
    fs::copy_file(scratch / "contiguous.h5ad", path);
    {
      namespace h5 = cw::io::h5;
      h5::Handle file = h5::openFile(path, true);
      h5::Handle x = h5::openGroup(file.get(), "X");
      H5Ldelete(x.get(), "data", H5P_DEFAULT);
      H5Ldelete(x.get(), "indices", H5P_DEFAULT);
      h5::Handle data = h5::createExtendible(x.get(), "data", H5T_NATIVE_FLOAT, chunk, gzip);
      h5::appendToExtendible(data.get(), H5T_NATIVE_FLOAT, d.X.data.data(), d.X.nnz());
      h5::Handle indices = h5::createExtendible(x.get(), "indices", H5T_NATIVE_INT32, chunk, gzip);
      h5::appendToExtendible(indices.get(), H5T_NATIVE_INT32, d.X.indices.data(), d.X.nnz());
    }
    {
      // Our walk of the chunk index agrees with libhdf5's own lookup of every chunk.
      namespace h5 = cw::io::h5;
      h5::Handle file = h5::openFile(path);
      h5::Handle data = h5::openDataset(file.get(), "X/data");
      const int fd = ::open(path.c_str(), O_RDONLY);
      const auto chunks = h5::locateChunks(data.get(), fd, chunk);
      ::close(fd);
      ASSERT_EQ(static_cast<int64_t>(chunks.size()), (d.X.nnz() + chunk - 1) / chunk);
      for (size_t c = 0; c < chunks.size(); c += 7) {
        hsize_t offset = static_cast<hsize_t>(c) * static_cast<hsize_t>(chunk);
        unsigned mask = 1;
        haddr_t address = HADDR_UNDEF;
        hsize_t stored = 0;
        ASSERT_GE(H5Dget_chunk_info_by_coord(data.get(), &offset, &mask, &address, &stored), 0);
        EXPECT_EQ(chunks[c].firstElement, static_cast<int64_t>(offset));
        EXPECT_EQ(chunks[c].address, address);
        EXPECT_EQ(chunks[c].storedBytes, stored);
        EXPECT_EQ(chunks[c].filterMask, mask);
      }
    }
    const auto read = cw::io::readDataset(path);
    EXPECT_EQ(read.dataset.X.indptr, expected.indptr);
    EXPECT_EQ(read.dataset.X.indices, expected.indices);
    EXPECT_EQ(read.dataset.X.data, expected.data);
    EXPECT_EQ(read.dataset.countsSource, cw::CountsSource::X);
  }
  {
    // Values stored as float64 need HDF5's conversion: read serially, checked beside it.
    const fs::path path = scratch / "float64.h5ad";
    fs::copy_file(scratch / "contiguous.h5ad", path);
    {
      namespace h5 = cw::io::h5;
      h5::Handle file = h5::openFile(path, true);
      h5::Handle x = h5::openGroup(file.get(), "X");
      H5Ldelete(x.get(), "data", H5P_DEFAULT);
      std::vector<double> wide(d.X.data.begin(), d.X.data.end());
      wide[wide.size() / 2] = 2.5;
      h5::writeArray(x.get(), "data", H5T_NATIVE_DOUBLE, wide.data(), {d.X.nnz()});
    }
    const auto read = cw::io::readDataset(path);
    EXPECT_EQ(read.dataset.X.indices, expected.indices);
    EXPECT_EQ(read.dataset.X.nnz(), expected.nnz());
    EXPECT_EQ(read.dataset.countsSource, cw::CountsSource::None);  // the 2.5 was seen
  }
  fs::remove_all(scratch);
}
