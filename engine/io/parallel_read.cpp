#include "parallel_read.h"

#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <exception>
#include <mutex>
#include <new>
#include <string>
#include <thread>

#ifdef CELLWRIGHT_HAVE_LIBDEFLATE
#include <libdeflate.h>
#endif

#include "cellwright/core/errors.h"
#include "chunk_index.h"
#include "hdf5_file.h"

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23  // Linux 5.14; older kernels answer EINVAL and we touch pages instead
#endif

namespace cw::io::h5 {
namespace {

constexpr size_t kPieceBytes = size_t(1) << 18;           // fits in L2 with room to scan it
constexpr size_t kParallelFrom = size_t(8) << 20;         // smaller reads: H5Dread is as fast
constexpr size_t kPageBytes = 4096;

// Runs work(worker) on `threads` threads (the caller's included); rethrows the first exception.
template <typename Work>
void runOnThreads(unsigned threads, Work work) {
  std::exception_ptr error;
  std::mutex errorMutex;
  auto guarded = [&](unsigned worker) {
    try {
      work(worker);
    } catch (...) {
      std::lock_guard<std::mutex> lock(errorMutex);
      if (!error) error = std::current_exception();
    }
  };
  std::vector<std::thread> pool;
  for (unsigned t = 1; t < threads; ++t) pool.emplace_back(guarded, t);
  guarded(0);
  for (auto& th : pool) th.join();
  if (error) std::rethrow_exception(error);
}

// The file descriptor behind `dataset` when HDF5 uses its default POSIX driver, else -1.
int posixDescriptor(hid_t dataset) {
  Handle file(H5Iget_file_id(dataset));
  if (!file.valid()) return -1;
  Handle access(H5Fget_access_plist(file.get()));
  if (!access.valid() || H5Pget_driver(access.get()) != H5FD_SEC2) return -1;
  void* handle = nullptr;
  if (H5Fget_vfd_handle(file.get(), H5P_DEFAULT, &handle) < 0 || handle == nullptr) return -1;
  return *static_cast<int*>(handle);
}

void preadFully(int fd, char* dst, size_t bytes, uint64_t offset, const std::string& what) {
  while (bytes > 0) {
    const ssize_t got = pread(fd, dst, bytes, static_cast<off_t>(offset));
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) throw Error("cannot read " + what + " (truncated file or disk error)");
    dst += got;
    bytes -= static_cast<size_t>(got);
    offset += static_cast<uint64_t>(got);
  }
}

}  // namespace

unsigned ioThreads() { return std::max(1u, std::min(8u, std::thread::hardware_concurrency())); }

void prefault(void* data, size_t bytes) {
  if (bytes < kParallelFrom) return;  // the zero-fill that follows faults small buffers cheaply
  const auto begin = (reinterpret_cast<uintptr_t>(data) + kPageBytes - 1) & ~uintptr_t(kPageBytes - 1);
  const auto end = (reinterpret_cast<uintptr_t>(data) + bytes) & ~uintptr_t(kPageBytes - 1);
  if (end <= begin) return;
  const unsigned threads = ioThreads();
  const uintptr_t pages = (end - begin) / kPageBytes;
  runOnThreads(threads, [&](unsigned t) {
    const uintptr_t first = begin + pages * t / threads * kPageBytes;
    const uintptr_t last = begin + pages * (t + 1) / threads * kPageBytes;
    // One kernel call per range instead of one fault per page; touching is the fallback.
    if (madvise(reinterpret_cast<void*>(first), last - first, MADV_POPULATE_WRITE) == 0) return;
    for (uintptr_t p = first; p < last; p += kPageBytes) *reinterpret_cast<volatile char*>(p) = 0;
  });
}

namespace {

// Elements [begin, end) of the dataset lie at byte `address` of the file, back to back.
struct Extent {
  uint64_t address;
  int64_t begin, end;
};

// Where the n elements lie: one extent for a contiguous dataset, one per chunk for an
// unfiltered chunked one (anndata's default for sparse arrays). Empty when the dataset is
// anything else (filtered, partly unwritten, not 1-D), so the caller falls back to H5Dread.
std::vector<Extent> rawExtents(hid_t dataset, int fd, hid_t dcpl, size_t elementSize, int64_t n) {
  const H5D_layout_t layout = H5Pget_layout(dcpl);
  if (layout == H5D_CONTIGUOUS) {
    if (H5Pget_external_count(dcpl) != 0) return {};
    if (H5Dget_storage_size(dataset) != static_cast<hsize_t>(n) * elementSize) return {};  // unwritten
    const haddr_t address = H5Dget_offset(dataset);
    if (address == HADDR_UNDEF) return {};
    return {Extent{address, 0, n}};
  }
  if (layout != H5D_CHUNKED || H5Pget_nfilters(dcpl) != 0) return {};
  hsize_t chunk = 0;
  if (H5Pget_chunk(dcpl, 1, &chunk) != 1 || chunk == 0) return {};
  const auto chunkElements = static_cast<int64_t>(chunk);
  std::vector<Extent> extents;
  for (const ChunkLocation& c : locateChunks(dataset, fd, chunkElements)) {
    if (c.storedBytes != chunk * elementSize) return {};
    extents.push_back(Extent{c.address, c.firstElement, std::min(n, c.firstElement + chunkElements)});
  }
  return extents;
}

// zlib-format streams (HDF5's deflate filter) inflated with libdeflate where the build found
// it (about twice zlib's speed), else zlib.
class Inflater {
 public:
#ifdef CELLWRIGHT_HAVE_LIBDEFLATE
  Inflater() : decompressor_(libdeflate_alloc_decompressor()) {
    if (!decompressor_) throw std::bad_alloc();
  }
  ~Inflater() { libdeflate_free_decompressor(decompressor_); }
#else
  Inflater() = default;
#endif
  Inflater(const Inflater&) = delete;
  Inflater& operator=(const Inflater&) = delete;
  // Bytes written to `out`, or 0 when the stream is damaged or does not fit.
  size_t inflate(const char* in, size_t inBytes, char* out, size_t outCapacity) {
#ifdef CELLWRIGHT_HAVE_LIBDEFLATE
    size_t written = 0;
    return libdeflate_zlib_decompress(decompressor_, in, inBytes, out, outCapacity, &written) == LIBDEFLATE_SUCCESS
               ? written
               : 0;
#else
    uLongf length = static_cast<uLongf>(outCapacity);
    return uncompress(reinterpret_cast<Bytef*>(out), &length, reinterpret_cast<const Bytef*>(in),
                      static_cast<uLong>(inBytes)) == Z_OK
               ? length
               : 0;
#endif
  }

 private:
#ifdef CELLWRIGHT_HAVE_LIBDEFLATE
  libdeflate_decompressor* decompressor_;
#endif
};

bool hasUserBlock(hid_t dataset) {
  Handle file(H5Iget_file_id(dataset));
  Handle fcpl(file.valid() ? H5Fget_create_plist(file.get()) : H5I_INVALID_HID);
  hsize_t userBlock = 0;
  return !fcpl.valid() || H5Pget_userblock(fcpl.get(), &userBlock) < 0 || userBlock != 0;
}

}  // namespace

bool readRawParallel(hid_t dataset, hid_t memType, void* out, size_t elementSize, int64_t n,
                     const PieceVisitor& visit) {
  const size_t bytes = static_cast<size_t>(n) * elementSize;
  if (n <= 0 || bytes < kParallelFrom) return false;
  Handle dcpl(H5Dget_create_plist(dataset));
  if (!dcpl.valid()) return false;
  Handle fileType(H5Dget_type(dataset));
  if (!fileType.valid() || H5Tequal(fileType.get(), memType) <= 0 || H5Tget_size(memType) != elementSize)
    return false;
  const int fd = posixDescriptor(dataset);
  // Chunk addresses may or may not count a user block depending on the libhdf5 release;
  // h5ad files have none, and any that do take the H5Dread path.
  if (fd < 0 || hasUserBlock(dataset)) return false;
  const std::vector<Extent> extents = rawExtents(dataset, fd, dcpl.get(), elementSize, n);
  if (extents.empty()) return false;
  const std::string what = objectName(dataset);
  struct stat info {};
  if (fstat(fd, &info) != 0) return false;
  const auto fileSize = static_cast<uint64_t>(info.st_size);
  for (const Extent& e : extents) {
    const uint64_t extentBytes = static_cast<uint64_t>(e.end - e.begin) * elementSize;
    if (e.address > fileSize || extentBytes > fileSize - e.address)
      throw Error(what + " lies beyond the end of the file (truncated file?)");
  }

  // Pieces of at most kPieceBytes, never straddling two extents.
  struct Piece {
    uint64_t address;
    int64_t begin, end;
  };
  const int64_t pieceElements = static_cast<int64_t>(std::max<size_t>(1, kPieceBytes / elementSize));
  std::vector<Piece> pieces;
  for (const Extent& e : extents)
    for (int64_t begin = e.begin; begin < e.end; begin += pieceElements)
      pieces.push_back(Piece{e.address + static_cast<uint64_t>(begin - e.begin) * elementSize, begin,
                             std::min(e.end, begin + pieceElements)});
  std::atomic<size_t> next{0};
  char* dst = static_cast<char*>(out);
  runOnThreads(ioThreads(), [&](unsigned) {
    for (size_t p = next++; p < pieces.size(); p = next++) {
      const Piece& piece = pieces[p];
      char* target = dst + static_cast<size_t>(piece.begin) * elementSize;
      preadFully(fd, target, static_cast<size_t>(piece.end - piece.begin) * elementSize, piece.address, what);
      if (visit) visit(target, piece.begin, piece.end);
    }
  });
  return true;
}

bool readDeflatedParallel(hid_t dataset, hid_t memType, void* out, size_t elementSize, int64_t n,
                          const PieceVisitor& visit) {
  if (n <= 0 || static_cast<size_t>(n) * elementSize < kParallelFrom) return false;
  Handle dcpl(H5Dget_create_plist(dataset));
  if (!dcpl.valid() || H5Pget_layout(dcpl.get()) != H5D_CHUNKED || H5Pget_nfilters(dcpl.get()) != 1) return false;
  unsigned flags = 0, config = 0, values[8];
  size_t nValues = 8;
  if (H5Pget_filter2(dcpl.get(), 0, &flags, &nValues, values, 0, nullptr, &config) != H5Z_FILTER_DEFLATE) return false;
  hsize_t chunk = 0;
  if (H5Pget_chunk(dcpl.get(), 1, &chunk) != 1 || chunk == 0) return false;
  Handle fileType(H5Dget_type(dataset));
  if (!fileType.valid() || H5Tequal(fileType.get(), memType) <= 0 || H5Tget_size(memType) != elementSize)
    return false;
  const int fd = posixDescriptor(dataset);
  if (fd < 0 || hasUserBlock(dataset)) return false;
  const std::vector<ChunkLocation> chunks = locateChunks(dataset, fd, static_cast<int64_t>(chunk));
  if (chunks.empty()) return false;
  const std::string what = objectName(dataset);
  const size_t chunkBytes = chunk * elementSize;
  struct stat info {};
  if (fstat(fd, &info) != 0) return false;
  for (const ChunkLocation& c : chunks)
    if (c.storedBytes > chunkBytes + chunkBytes / 8 + 4096 || c.address > static_cast<uint64_t>(info.st_size) ||
        c.storedBytes > static_cast<uint64_t>(info.st_size) - c.address)
      throw Error(what + " is corrupt: a compressed chunk is larger than possible or lies beyond the end of the file");

  std::atomic<size_t> next{0};
  char* dst = static_cast<char*>(out);
  runOnThreads(ioThreads(), [&](unsigned) {
    std::vector<char> packed, scratch(chunkBytes);
    Inflater inflater;
    for (size_t i = next++; i < chunks.size(); i = next++) {
      const ChunkLocation& c = chunks[i];
      const size_t offset = static_cast<size_t>(c.firstElement) * elementSize;
      const size_t valid = std::min(chunkBytes, static_cast<size_t>(n) * elementSize - offset);
      packed.resize(c.storedBytes);
      preadFully(fd, packed.data(), packed.size(), c.address, what);
      if (c.filterMask & 1u) {  // stored without compression
        if (packed.size() < valid) throw Error(what + " is corrupt: a chunk is shorter than its contents");
        std::memcpy(dst + offset, packed.data(), valid);
      } else {
        char* target = valid == chunkBytes ? dst + offset : scratch.data();
        if (inflater.inflate(packed.data(), packed.size(), target, chunkBytes) < valid)
          throw Error(what + " is corrupt: a compressed chunk does not decompress");
        if (target == scratch.data()) std::memcpy(dst + offset, scratch.data(), valid);
      }
      if (visit) visit(dst + offset, c.firstElement, c.firstElement + static_cast<int64_t>(valid / elementSize));
    }
  });
  return true;
}

bool readSerialVisiting(hid_t dataset, hid_t memType, void* out, size_t elementSize, int64_t n,
                        const PieceVisitor& visit) {
  const size_t bytes = static_cast<size_t>(n) * elementSize;
  if (!visit || n <= 0 || bytes < kParallelFrom) return false;
  Handle fileSpace(H5Dget_space(dataset));
  if (!fileSpace.valid() || H5Sget_simple_extent_ndims(fileSpace.get()) != 1) return false;
  const std::string what = objectName(dataset);
  const int64_t slabElements = static_cast<int64_t>(kParallelFrom / elementSize);
  char* dst = static_cast<char*>(out);
  std::thread scanner;
  auto finishScan = [&] {
    if (scanner.joinable()) scanner.join();
  };
  try {
    for (int64_t begin = 0; begin < n; begin += slabElements) {
      const int64_t end = std::min(n, begin + slabElements);
      hsize_t offset = static_cast<hsize_t>(begin), count = static_cast<hsize_t>(end - begin);
      Handle memSpace(H5Screate_simple(1, &count, nullptr));
      char* target = dst + static_cast<size_t>(begin) * elementSize;
      if (H5Sselect_hyperslab(fileSpace.get(), H5S_SELECT_SET, &offset, nullptr, &count, nullptr) < 0 ||
          H5Dread(dataset, memType, memSpace.get(), fileSpace.get(), H5P_DEFAULT, target) < 0)
        throw Error("cannot read " + what + " (corrupt or truncated file?)");
      // One slab is scanned while the next is read.
      finishScan();
      scanner = std::thread([&visit, target, begin, end] { visit(target, begin, end); });
    }
  } catch (...) {
    finishScan();
    throw;
  }
  finishScan();
  return true;
}

void visitInParallel(const void* data, size_t elementSize, int64_t n, const PieceVisitor& visit) {
  if (!visit || n <= 0) return;
  constexpr int64_t kPiece = int64_t(1) << 18;
  const int64_t pieces = (n + kPiece - 1) / kPiece;
  std::atomic<int64_t> next{0};
  runOnThreads(std::min<unsigned>(ioThreads(), static_cast<unsigned>(pieces)), [&](unsigned) {
    for (int64_t p = next++; p < pieces; p = next++)
      visit(static_cast<const char*>(data) + static_cast<size_t>(p * kPiece) * elementSize, p * kPiece,
            std::min(n, (p + 1) * kPiece));
  });
}

}  // namespace cw::io::h5
