#pragma once
// Private to engine_io: where the chunks of a 1-D chunked dataset lie in the file.
//
// libhdf5 1.10 has no call that lists chunks; H5Dget_chunk_info_by_coord walks the whole
// chunk index for every chunk (quadratic: seconds for the ~10,000 chunks of a large anndata
// array). Files written with HDF5's default (earliest) format keep the index in a version-1
// B-tree, which we walk once ourselves, following the published file format specification,
// with every read bounds-checked. Anything else (newer index types, odd sizes) gives an empty
// answer and the caller falls back to HDF5.
#include <hdf5.h>

#include <cstdint>
#include <vector>

namespace cw::io::h5 {

struct ChunkLocation {
  int64_t firstElement;  // the chunk's offset in the dataset
  uint64_t address;      // its first byte in the file
  uint64_t storedBytes;  // its size on disk (filtered size when filters apply)
  uint32_t filterMask;   // filters skipped for this chunk (bit i: filter i)
};

// All chunks of `dataset` (1-D, chunks of `chunkElements`), sorted by firstElement, read
// through `fd` (the file's descriptor). Empty when the index is not a version-1 B-tree or
// looks inconsistent; never throws for a damaged file. The caller holds the HDF5 mutex.
std::vector<ChunkLocation> locateChunks(hid_t dataset, int fd, int64_t chunkElements);

}  // namespace cw::io::h5
