#pragma once
// Private to engine_io: large whole-dataset reads on several threads.
//
// HDF5 is serial, but an unfiltered dataset stored exactly in the memory type is one byte
// range of the file (contiguous layout) or one per chunk: we ask HDF5 (under the mutex) where
// they lie, then pread() them in pieces on worker threads that never call HDF5. Each piece is handed to a visitor while it
// is still in cache, so validation passes cost no extra trip through memory.
#include <hdf5.h>

#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <thread>
#include <vector>

namespace cw::io::h5 {

// Called on worker threads (possibly at once) with element ranges [begin, end) of the buffer
// being filled, `piece` pointing at element `begin`; together the calls cover every element
// once. Must be thread-safe and must not throw.
using PieceVisitor = std::function<void(const void* piece, int64_t begin, int64_t end)>;

// Threads used for large reads and scans (hardware threads, at most 8).
unsigned ioThreads();

// Makes the kernel back [data, data+bytes) with memory now, on several threads. A fresh
// multi-GB buffer otherwise takes one page fault per 4 KiB on a single thread, which costs
// more than reading the file.
void prefault(void* data, size_t bytes);

// v.resize(n) for a fresh buffer about to be overwritten, with its pages faulted in parallel.
template <typename T>
void resizeForOverwrite(std::vector<T>& v, size_t n) {
  v = std::vector<T>();
  v.reserve(n);
  prefault(v.data(), n * sizeof(T));
  v.resize(n);
}

// Both resizeForOverwrite calls at once on two threads: the zero-fill that std::vector insists
// on is serial within one vector.
template <typename A, typename B>
void resizeForOverwrite(std::vector<A>& a, size_t na, std::vector<B>& b, size_t nb) {
  std::exception_ptr error;
  std::thread other([&] {
    try {
      resizeForOverwrite(b, nb);
    } catch (...) {
      error = std::current_exception();
    }
  });
  try {
    resizeForOverwrite(a, na);
  } catch (...) {
    other.join();
    throw;
  }
  other.join();
  if (error) std::rethrow_exception(error);
}

// Reads all `n` elements of `dataset` into `out` with pread() on worker threads, calling
// `visit` for each piece. Works for contiguous datasets and unfiltered chunked ones (their
// chunks located first, under the mutex) stored exactly as `memType`; returns false, reading
// nothing, for any other (the caller then uses H5Dread). Throws cw::Error when the file is
// shorter than the dataset claims. The caller holds the HDF5 mutex.
bool readRawParallel(hid_t dataset, hid_t memType, void* out, size_t elementSize, int64_t n,
                            const PieceVisitor& visit);

// Gzip-compressed chunked datasets stored as `memType`: chunks located once, then read and
// inflated on worker threads with zlib, HDF5's serial filter pipeline bypassed. Returns false
// when the dataset does not qualify or its chunk index cannot be walked.
bool readDeflatedParallel(hid_t dataset, hid_t memType, void* out, size_t elementSize, int64_t n,
                          const PieceVisitor& visit);

// H5Dread (with any conversion) in 8 MB slabs, each passed to `visit` on a second thread
// while the next is read. Returns false, reading nothing, when there is no visitor or the
// dataset is small or not 1-D. The caller holds the HDF5 mutex.
bool readSerialVisiting(hid_t dataset, hid_t memType, void* out, size_t elementSize, int64_t n,
                        const PieceVisitor& visit);

// Calls `visit` over the n elements of `data` in pieces on worker threads (for data read some
// other way).
void visitInParallel(const void* data, size_t elementSize, int64_t n, const PieceVisitor& visit);

}  // namespace cw::io::h5
