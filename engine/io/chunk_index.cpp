#include "chunk_index.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "hdf5_file.h"
#include "object_header.h"

namespace cw::io::h5 {
namespace {

constexpr int kMaxTreeLevel = 32;

uint64_t little(const uint8_t* p, size_t bytes) { return littleEndian(p, bytes); }

// Bounds-checked reads of the file's bytes.
struct FileBytes {
  int fd;
  uint64_t size;
  bool read(uint64_t address, size_t count, std::vector<uint8_t>& out) const {
    if (address > size || count > size - address || count > (size_t(1) << 26)) return false;
    out.resize(count);
    size_t done = 0;
    while (done < count) {
      const ssize_t got = pread(fd, out.data() + done, count - done, static_cast<off_t>(address + done));
      if (got < 0 && errno == EINTR) continue;
      if (got <= 0) return false;
      done += static_cast<size_t>(got);
    }
    return true;
  }
};

// The data of the object header's layout message (type 8); empty when not found.
std::vector<uint8_t> layoutMessage(const FileBytes& file, uint64_t header) {
  std::vector<uint8_t> layout;
  forEachHeaderMessage(
      [&file](uint64_t address, size_t count, std::vector<uint8_t>& out) { return file.read(address, count, out); },
      header, [&layout](unsigned type, const uint8_t* data, size_t size) {
        if (type != 0x0008) return true;
        layout.assign(data, data + size);
        return false;
      });
  return layout;
}

// Collects the chunks under the version-1 B-tree node at `address`.
// `nodeBudget` bounds the nodes visited, so a damaged tree whose nodes share children cannot
// make the walk explode.
bool walkTree(const FileBytes& file, uint64_t address, int expectedLevel, size_t dims, size_t maxChunks,
              size_t& nodeBudget, std::vector<ChunkLocation>& out) {
  if (nodeBudget == 0) return false;
  --nodeBudget;
  std::vector<uint8_t> node;
  if (!file.read(address, 24, node) || std::memcmp(node.data(), "TREE", 4) != 0 || node[4] != 1) return false;
  const int level = node[5];
  const size_t entries = little(&node[6], 2);
  if (level > kMaxTreeLevel || (expectedLevel >= 0 && level != expectedLevel)) return false;
  const size_t keyBytes = 8 + 8 * dims;
  if (!file.read(address + 24, entries * (keyBytes + 8) + keyBytes, node)) return false;
  for (size_t i = 0; i < entries; ++i) {
    const uint8_t* key = &node[i * (keyBytes + 8)];
    const uint64_t child = little(key + keyBytes, 8);
    if (level == 0) {
      if (out.size() >= maxChunks) return false;
      const uint64_t first = little(key + 8, 8);
      if (first > uint64_t(INT64_MAX)) return false;
      out.push_back({static_cast<int64_t>(first), child, little(key, 4), static_cast<uint32_t>(little(key + 4, 4))});
    } else if (!walkTree(file, child, level - 1, dims, maxChunks, nodeBudget, out)) {
      return false;
    }
  }
  return true;
}

}  // namespace

std::vector<ChunkLocation> locateChunks(hid_t dataset, int fd, int64_t chunkElements) {
  const auto shape = datasetShape(dataset);
  if (shape.size() != 1 || chunkElements <= 0 || shape[0] <= 0) return {};
  const int64_t nChunks = (shape[0] + chunkElements - 1) / chunkElements;
  Handle file(H5Iget_file_id(dataset));
  Handle fcpl(file.valid() ? H5Fget_create_plist(file.get()) : H5I_INVALID_HID);
  size_t offsetBytes = 0, lengthBytes = 0;
  if (!fcpl.valid() || H5Pget_sizes(fcpl.get(), &offsetBytes, &lengthBytes) < 0 || offsetBytes != 8 ||
      lengthBytes != 8)
    return {};
  H5O_info_t info{};
  if (H5Oget_info2(dataset, &info, H5O_INFO_BASIC) < 0) return {};
  struct stat st {};
  if (fstat(fd, &st) != 0) return {};
  const FileBytes bytes{fd, static_cast<uint64_t>(st.st_size)};

  // Layout message version 3, chunked class: dimensionality (rank + 1), B-tree address, sizes.
  const std::vector<uint8_t> layout = layoutMessage(bytes, info.addr);
  if (layout.size() < 11 || layout[0] != 3 || layout[1] != 2 || layout[2] != 2) return {};
  const uint64_t root = little(&layout[3], 8);
  if (layout.size() < 11 + 8 || static_cast<int64_t>(little(&layout[11], 4)) != chunkElements) return {};

  std::vector<ChunkLocation> chunks;
  size_t nodeBudget = 2 * static_cast<size_t>(nChunks) + 64;  // a B-tree has fewer nodes than leaves
  if (!walkTree(bytes, root, -1, 2, static_cast<size_t>(nChunks), nodeBudget, chunks)) return {};
  if (static_cast<int64_t>(chunks.size()) != nChunks) return {};  // some never written
  std::sort(chunks.begin(), chunks.end(),
            [](const ChunkLocation& a, const ChunkLocation& b) { return a.firstElement < b.firstElement; });
  for (int64_t c = 0; c < nChunks; ++c)
    if (chunks[c].firstElement != c * chunkElements) return {};
  // Cross-check the ends with libhdf5's own (slow) lookup.
  for (int64_t c : {int64_t(0), nChunks - 1}) {
    hsize_t offset = static_cast<hsize_t>(c * chunkElements);
    unsigned mask = 0;
    haddr_t address = HADDR_UNDEF;
    hsize_t stored = 0;
    if (H5Dget_chunk_info_by_coord(dataset, &offset, &mask, &address, &stored) < 0 ||
        address != chunks[c].address || stored != chunks[c].storedBytes || mask != chunks[c].filterMask)
      return {};
  }
  return chunks;
}

}  // namespace cw::io::h5
