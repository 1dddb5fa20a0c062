// Libhdf5 1.10 trusts the global heap behind variable-length strings: a corrupt heap object
// size makes H5Dread copy past its buffers and crash (found by tests/fuzz). Before reading
// such a dataset we walk the heap references ourselves, with bounds checks, and refuse the
// file when one is damaged.
#include <zlib.h>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <map>
#include <optional>
#include <string>

#include "cellwright/core/errors.h"
#include "cellwright/io/hdf5_lock.h"
#include "hdf5_file.h"
#include "object_header.h"

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
  // As libhdf5 walks it: object 0 is free space whose size counts its own header, and the
  // walk goes on after it. A free-space size of 0 would make libhdf5 loop forever.
  for (uint64_t offset = headerSize; offset + objectHeader <= size;) {
    const uint64_t index = readLittle(bytes.data() + offset, 2);
    const uint64_t objectSize = readLittle(bytes.data() + offset + 8, sizeofSize);
    if (index == 0) {
      if (objectSize == 0) return {};
      offset += objectSize;
      continue;
    }
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


// The file behind `object`, opened for our own bounds-checked reads, with its address sizes.
struct OpenedFile {
  FileBytes bytes;
  size_t sizeofAddr = 8, sizeofSize = 8;
};

bool openFileOf(hid_t object, OpenedFile& file) {
  Handle fileId(H5Iget_file_id(object));
  Handle fcpl(H5Fget_create_plist(fileId.get()));
  H5Pget_sizes(fcpl.get(), &file.sizeofAddr, &file.sizeofSize);
  hsize_t userBlock = 0;
  H5Pget_userblock(fcpl.get(), &userBlock);
  char name[4096] = {0};
  if (H5Fget_name(fileId.get(), name, sizeof name - 1) < 0) return false;
  file.bytes.in.open(name, std::ios::binary);
  if (!file.bytes.in) return false;
  file.bytes.in.seekg(0, std::ios::end);
  file.bytes.size = static_cast<uint64_t>(file.bytes.in.tellg());
  file.bytes.base = userBlock;
  return true;
}

// True when every (length, heap address, object index) reference in `raw` names an existing
// global heap object at least that long.
bool referencesIntact(OpenedFile& file, const unsigned char* raw, int64_t n) {
  const size_t elementSize = 4 + file.sizeofAddr + 4;
  std::map<uint64_t, std::map<uint64_t, uint64_t>> collections;
  for (int64_t i = 0; i < n; ++i) {
    const unsigned char* e = raw + i * elementSize;
    const uint64_t length = readLittle(e, 4);
    const uint64_t address = readLittle(e + 4, file.sizeofAddr);
    const uint64_t index = readLittle(e + 4 + file.sizeofAddr, 4);
    if (length == 0 && (address == 0 || index == 0)) continue;  // empty or missing string
    auto it = collections.find(address);
    if (it == collections.end())
      it = collections.emplace(address, parseCollection(file.bytes, address, file.sizeofSize)).first;
    const auto object = it->second.find(index);
    if (object == it->second.end() || length > object->second) return false;
  }
  return true;
}

// Element count of a dataspace message; nullopt when it cannot be decoded.
std::optional<uint64_t> dataspaceElements(const uint8_t* p, size_t size) {
  if (size < 8) return std::nullopt;
  const unsigned version = p[0], rank = p[1];
  size_t dims = 0;
  if (version == 1) dims = 8;
  else if (version == 2) dims = 4;
  else return std::nullopt;
  if (version == 2 && p[3] == 2) return 0;  // null dataspace
  if (rank > 32 || dims + size_t(rank) * 8 > size) return std::nullopt;
  uint64_t n = 1;
  for (unsigned d = 0; d < rank; ++d) {
    const uint64_t extent = littleEndian(p + dims + 8 * d, 8);
    if (extent != 0 && n > (uint64_t(1) << 40) / extent) return std::nullopt;
    n *= extent;
  }
  return n;
}

}  // namespace

void checkVariableStrings(hid_t dataset, int64_t n) {
  Hdf5Lock lock(hdf5Mutex());
  OpenedFile file;
  if (!openFileOf(dataset, file)) return;
  std::vector<unsigned char> raw;
  if (!rawElements(dataset, file.bytes, 4 + file.sizeofAddr + 4, n, raw)) return;
  if (!referencesIntact(file, raw.data(), n))
    throw Error(objectName(dataset) + " is corrupt: its text refers to damaged storage in the file");
}

void checkVariableStringAttribute(hid_t object, const std::string& name) {
  Hdf5Lock lock(hdf5Mutex());
  OpenedFile file;
  H5O_info_t info{};
  if (H5Oget_info2(object, &info, H5O_INFO_BASIC) < 0 || !openFileOf(object, file)) return;
  const ReadFileBytes read = [&file](uint64_t address, size_t count, std::vector<uint8_t>& out) {
    return file.bytes.read(file.bytes.base + address, count, out);
  };
  bool damaged = false;
  forEachHeaderMessage(read, info.addr, [&](unsigned type, const uint8_t* p, size_t size) {
    if (type != 0x000C || size < 8) return true;  // attribute messages only
    // Version 1 pads name, datatype and dataspace to 8 bytes; version 3 adds a name encoding.
    const unsigned version = p[0];
    if (version < 1 || version > 3) return true;
    const size_t nameSize = littleEndian(p + 2, 2), typeSize = littleEndian(p + 4, 2), spaceSize = littleEndian(p + 6, 2);
    auto padded = [version](size_t bytes) { return version == 1 ? (bytes + 7) & ~size_t(7) : bytes; };
    const size_t nameAt = version == 3 ? 9 : 8;
    const size_t typeAt = nameAt + padded(nameSize), spaceAt = typeAt + padded(typeSize);
    const size_t dataAt = spaceAt + padded(spaceSize);
    if (nameSize == 0 || dataAt > size) return true;
    if (std::string(reinterpret_cast<const char*>(p + nameAt), strnlen(reinterpret_cast<const char*>(p + nameAt), nameSize)) != name)
      return true;
    // Datatype: class 9 (variable-length) of kind 1 (string).
    if (typeSize < 8 || (p[typeAt] & 0x0F) != 9 || (p[typeAt + 1] & 0x0F) != 1) return false;
    const auto n = dataspaceElements(p + spaceAt, spaceSize);
    const size_t elementSize = 4 + file.sizeofAddr + 4;
    if (!n || *n > (size - dataAt) / elementSize) {
      damaged = true;
      return false;
    }
    damaged = !referencesIntact(file, p + dataAt, static_cast<int64_t>(*n));
    return false;
  });
  if (damaged)
    throw Error("attribute '" + name + "' of " + objectName(object) + " is corrupt: its text refers to damaged storage in the file");
}

void checkGroupNameTable(hid_t group) {
  Hdf5Lock lock(hdf5Mutex());
  OpenedFile file;
  H5O_info_t info{};
  if (H5Oget_info2(group, &info, H5O_INFO_BASIC) < 0 || info.type != H5O_TYPE_GROUP || !openFileOf(group, file)) return;
  const ReadFileBytes read = [&file](uint64_t address, size_t count, std::vector<uint8_t>& out) {
    return file.bytes.read(file.bytes.base + address, count, out);
  };
  uint64_t heap = 0;
  bool found = false;
  forEachHeaderMessage(read, info.addr, [&](unsigned type, const uint8_t* p, size_t size) {
    if (type != 0x0011 || size < 2 * file.sizeofAddr) return true;  // symbol table message
    heap = littleEndian(p + file.sizeofAddr, file.sizeofAddr);
    found = true;
    return false;
  });
  if (!found) return;  // newer link storage: libhdf5 checks it
  // Local heap: "HEAP", version, 3 reserved bytes, data size, free-list offset, data address.
  const size_t header = 8 + 2 * file.sizeofSize + file.sizeofAddr;
  std::vector<uint8_t> bytes;
  bool intact = read(heap, header, bytes) && std::memcmp(bytes.data(), "HEAP", 4) == 0 && bytes[4] == 0;
  if (intact) {
    const uint64_t dataSize = littleEndian(&bytes[8], file.sizeofSize);
    const uint64_t freeList = littleEndian(&bytes[8 + file.sizeofSize], file.sizeofSize);
    const uint64_t data = littleEndian(&bytes[8 + 2 * file.sizeofSize], file.sizeofAddr);
    // libhdf5 ends the free list with offset 1; the specification says "undefined" (all ones).
    const uint64_t allOnes = file.sizeofSize >= 8 ? ~uint64_t(0) : (uint64_t(1) << (8 * file.sizeofSize)) - 1;
    auto isEnd = [allOnes](uint64_t offset) { return offset == 1 || offset == allOnes; };
    const uint64_t fileSize = file.bytes.size - std::min(file.bytes.size, file.bytes.base);
    intact = data <= fileSize && dataSize <= fileSize - data && (isEnd(freeList) || freeList < dataSize);
    // The free list (offset of the next block, block size) must stay inside the heap and end:
    // libhdf5 follows it without noticing a cycle.
    std::vector<uint8_t> segment;
    if (intact && !isEnd(freeList)) intact = read(data, dataSize, segment);
    const size_t entry = 2 * file.sizeofSize;
    for (uint64_t at = freeList, steps = 0; intact && !isEnd(at); ++steps) {
      intact = at + entry <= dataSize && steps <= dataSize / entry;
      if (!intact) break;
      const uint64_t next = littleEndian(&segment[at], file.sizeofSize);
      const uint64_t blockSize = littleEndian(&segment[at + file.sizeofSize], file.sizeofSize);
      intact = blockSize <= dataSize - at;
      at = next;
    }
  }
  if (!intact) throw Error("the group " + objectName(group) + " is corrupt: its table of names is damaged (truncated file?)");
}

void checkAttributeMessages(hid_t object) {
  Hdf5Lock lock(hdf5Mutex());
  OpenedFile file;
  H5O_info_t info{};
  if (H5Oget_info2(object, &info, H5O_INFO_BASIC) < 0 || !openFileOf(object, file)) return;
  const ReadFileBytes read = [&file](uint64_t address, size_t count, std::vector<uint8_t>& out) {
    return file.bytes.read(file.bytes.base + address, count, out);
  };
  bool damaged = false;
  forEachHeaderMessage(read, info.addr, [&](unsigned type, const uint8_t* p, size_t size) {
    if (type != 0x000C) return true;
    // The parts libhdf5 copies without checking: a NUL-terminated name, then the values
    // (elements x element size) after the datatype and dataspace.
    const unsigned version = size >= 8 ? p[0] : 0;
    if (version < 1 || version > 3) return !(damaged = true);
    const size_t nameSize = littleEndian(p + 2, 2), typeSize = littleEndian(p + 4, 2), spaceSize = littleEndian(p + 6, 2);
    auto padded = [version](size_t bytes) { return version == 1 ? (bytes + 7) & ~size_t(7) : bytes; };
    const size_t nameAt = version == 3 ? 9 : 8;
    const size_t typeAt = nameAt + padded(nameSize), spaceAt = typeAt + padded(typeSize);
    const size_t dataAt = spaceAt + padded(spaceSize);
    if (nameSize == 0 || typeSize < 8 || dataAt > size || std::memchr(p + nameAt, 0, nameSize) == nullptr)
      return !(damaged = true);
    const auto n = dataspaceElements(p + spaceAt, spaceSize);
    const uint64_t elementSize = littleEndian(p + typeAt + 4, 4);
    if (!n || (elementSize != 0 && *n > (size - dataAt) / elementSize)) return !(damaged = true);
    return true;
  });
  if (damaged) throw Error("the attributes of " + objectName(object) + " are damaged (corrupt file?)");
}

}  // namespace cw::io::h5
