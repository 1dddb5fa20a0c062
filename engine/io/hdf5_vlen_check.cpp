// Libhdf5 1.10 trusts the global heap behind variable-length strings: a corrupt heap object
// size makes H5Dread copy past its buffers and crash (found by tests/fuzz). Before reading
// such a dataset we walk the heap references ourselves, with bounds checks, and refuse the
// file when one is damaged.
#include <zlib.h>

#include <cstring>
#include <fstream>
#include <map>

#include "cellwright/core/errors.h"
#include "cellwright/io/hdf5_lock.h"
#include "hdf5_file.h"

namespace cw::io::h5 {
namespace {

uint64_t readLittle(const unsigned char* p, size_t bytes) {
  uint64_t v = 0;
  for (size_t i = 0; i < bytes; ++i) v |= uint64_t(p[i]) << (8 * i);
  return v;
}

struct FileBytes {
  std::ifstream in;
  uint64_t size = 0;
  uint64_t base = 0;  // user block: HDF5 addresses are relative to it
  bool read(uint64_t address, size_t count, std::vector<unsigned char>& out) {
    if (address > size || count > size - address) return false;
    out.resize(count);
    in.clear();
    in.seekg(static_cast<std::streamoff>(address));
    in.read(reinterpret_cast<char*>(out.data()), static_cast<std::streamsize>(count));
    return static_cast<size_t>(in.gcount()) == count;
  }
};

// Object sizes of one global heap collection by object index; empty when the collection is damaged.
std::map<uint64_t, uint64_t> parseCollection(FileBytes& file, uint64_t address, size_t sizeofSize) {
  std::map<uint64_t, uint64_t> objects;
  std::vector<unsigned char> header;
  const size_t headerSize = 8 + sizeofSize;
  if (!file.read(file.base + address, headerSize, header) || std::memcmp(header.data(), "GCOL", 4) != 0) return {};
  const uint64_t size = readLittle(header.data() + 8, sizeofSize);
  if (size < headerSize || size > (uint64_t(1) << 32)) return {};
  std::vector<unsigned char> bytes;
  if (!file.read(file.base + address, size, bytes)) return {};
  const size_t objectHeader = 8 + sizeofSize;
  for (uint64_t offset = headerSize; offset + objectHeader <= size;) {
    const uint64_t index = readLittle(bytes.data() + offset, 2);
    const uint64_t objectSize = readLittle(bytes.data() + offset + 8, sizeofSize);
    if (index == 0) break;  // free space: the rest of the collection
    if (objectSize > size - offset - objectHeader) return {};
    objects[index] = objectSize;
    offset += objectHeader + ((objectSize + 7) & ~uint64_t(7));
  }
  return objects;
}

// The dataset's stored elements (length, heap address, object index), raw from the file.
bool rawElements(hid_t dataset, FileBytes& file, size_t elementSize, int64_t n, std::vector<unsigned char>& raw) {
  Handle dcpl(H5Dget_create_plist(dataset));
  const H5D_layout_t layout = H5Pget_layout(dcpl.get());
  if (layout == H5D_CONTIGUOUS) {
    const haddr_t address = H5Dget_offset(dataset);
    if (address == HADDR_UNDEF) return false;  // never written: no references
    if (!file.read(file.base + address, static_cast<size_t>(n) * elementSize, raw))
      throw Error(objectName(dataset) + " is corrupt: its text lies beyond the end of the file (truncated?)");
    return true;
  }
  if (layout != H5D_CHUNKED) return false;  // compact: stored in the object header, which HDF5 checks
  hsize_t chunk = 0;
  if (H5Pget_chunk(dcpl.get(), 1, &chunk) != 1 || chunk == 0) return false;
  const int nFilters = H5Pget_nfilters(dcpl.get());
  bool deflated = false;
  if (nFilters == 1) {
    unsigned flags = 0, config = 0, values[8];
    size_t nValues = 8;
    if (H5Pget_filter2(dcpl.get(), 0, &flags, &nValues, values, 0, nullptr, &config) != H5Z_FILTER_DEFLATE) return false;
    deflated = true;
  } else if (nFilters != 0) {
    return false;
  }
  const size_t chunkBytes = chunk * elementSize;
  raw.assign(static_cast<size_t>(n) * elementSize, 0);
  std::vector<unsigned char> stored, inflated(chunkBytes);
  for (hsize_t offset = 0; offset < static_cast<hsize_t>(n); offset += chunk) {
    hsize_t bytes = 0;
    if (H5Dget_chunk_storage_size(dataset, &offset, &bytes) < 0 || bytes == 0) continue;
    if (bytes > chunkBytes + chunkBytes / 8 + 4096) throw Error(objectName(dataset) + " is corrupt: a chunk is larger than possible");
    stored.resize(bytes);
    uint32_t mask = 0;
    if (H5Dread_chunk(dataset, H5P_DEFAULT, &offset, &mask, stored.data()) < 0)
      throw Error("cannot read " + objectName(dataset) + " (corrupt or truncated file?)");
    const unsigned char* source = stored.data();
    size_t available = stored.size();
    if (deflated && (mask & 1u) == 0) {
      uLongf length = static_cast<uLongf>(chunkBytes);
      if (uncompress(inflated.data(), &length, stored.data(), static_cast<uLong>(stored.size())) != Z_OK)
        throw Error(objectName(dataset) + " is corrupt: a compressed chunk does not decompress");
      source = inflated.data();
      available = length;
    }
    const size_t want = std::min<size_t>(chunkBytes, (static_cast<size_t>(n) - offset) * elementSize);
    if (available < want) throw Error(objectName(dataset) + " is corrupt: a chunk is too short");
    std::memcpy(raw.data() + offset * elementSize, source, want);
  }
  return true;
}

}  // namespace

void checkVariableStrings(hid_t dataset, int64_t n) {
  Hdf5Lock lock(hdf5Mutex());
  Handle fileId(H5Iget_file_id(dataset));
  Handle fcpl(H5Fget_create_plist(fileId.get()));
  size_t sizeofAddr = 8, sizeofSize = 8;
  H5Pget_sizes(fcpl.get(), &sizeofAddr, &sizeofSize);
  hsize_t userBlock = 0;
  H5Pget_userblock(fcpl.get(), &userBlock);
  char name[4096] = {0};
  if (H5Fget_name(fileId.get(), name, sizeof name - 1) < 0) return;
  FileBytes file;
  file.in.open(name, std::ios::binary);
  if (!file.in) return;
  file.in.seekg(0, std::ios::end);
  file.size = static_cast<uint64_t>(file.in.tellg());
  file.base = userBlock;
  const size_t elementSize = 4 + sizeofAddr + 4;
  std::vector<unsigned char> raw;
  if (!rawElements(dataset, file, elementSize, n, raw)) return;
  std::map<uint64_t, std::map<uint64_t, uint64_t>> collections;
  for (int64_t i = 0; i < n; ++i) {
    const unsigned char* e = raw.data() + i * elementSize;
    const uint64_t length = readLittle(e, 4);
    const uint64_t address = readLittle(e + 4, sizeofAddr);
    const uint64_t index = readLittle(e + 4 + sizeofAddr, 4);
    if (length == 0 && (address == 0 || index == 0)) continue;  // empty or missing string
    auto it = collections.find(address);
    if (it == collections.end()) it = collections.emplace(address, parseCollection(file, address, sizeofSize)).first;
    const auto object = it->second.find(index);
    if (object == it->second.end() || length > object->second)
      throw Error(objectName(dataset) + " is corrupt: its text refers to damaged storage in the file");
  }
}

}  // namespace cw::io::h5
