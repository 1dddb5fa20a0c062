#include "object_header.h"

#include <algorithm>
#include <cstring>

namespace cw::io::h5 {
namespace {

constexpr size_t kMaxMessages = 4096;
constexpr size_t kMaxHeaderBlocks = 64;
constexpr uint64_t kMaxBlockBytes = uint64_t(1) << 20;  // real header blocks are a few KB

}  // namespace

uint64_t littleEndian(const uint8_t* p, size_t bytes) {
  uint64_t v = 0;
  for (size_t i = 0; i < bytes; ++i) v |= uint64_t(p[i]) << (8 * i);
  return v;
}

bool forEachHeaderMessage(const ReadFileBytes& read, uint64_t header,
                          const std::function<bool(unsigned type, const uint8_t* data, size_t size)>& visit) {
  std::vector<uint8_t> prefix;
  if (!read(header, 16, prefix)) return false;
  struct Block {
    uint64_t address, length;
  };
  std::vector<Block> blocks;
  bool v2 = false;
  bool creationOrder = false;
  if (std::memcmp(prefix.data(), "OHDR", 4) == 0) {
    // Version 2 prefix: signature, version, flags, optional times and phase change values,
    // then the size of chunk 0 in 1, 2, 4 or 8 bytes.
    v2 = true;
    const uint8_t flags = prefix[5];
    creationOrder = flags & 0x04;
    size_t at = 6 + ((flags & 0x20) ? 16 : 0) + ((flags & 0x10) ? 4 : 0);
    const size_t width = size_t(1) << (flags & 0x03);
    std::vector<uint8_t> sizeField;
    if (prefix[4] != 2 || !read(header + at, width, sizeField)) return false;
    blocks.push_back({header + at + width, littleEndian(sizeField.data(), width)});
  } else {
    if (prefix[0] != 1) return false;
    blocks.push_back({header + 16, littleEndian(prefix.data() + 8, 4)});
  }
  const size_t messageHeader = v2 ? (creationOrder ? 6 : 4) : 8;
  size_t messages = 0;
  std::vector<uint8_t> bytes;
  for (size_t b = 0; b < blocks.size() && b < kMaxHeaderBlocks; ++b) {
    if (blocks[b].length > kMaxBlockBytes || !read(blocks[b].address, blocks[b].length, bytes)) return false;
    size_t at = 0;
    if (v2 && b > 0) {
      if (bytes.size() < 8 || std::memcmp(bytes.data(), "OCHK", 4) != 0) return false;
      at = 4;
    }
    // Version 2 continuation blocks end in a checksum (chunk 0's is outside its stated size).
    const size_t end = v2 && b > 0 ? bytes.size() - 4 : bytes.size();
    while (at + messageHeader <= end && ++messages < kMaxMessages) {
      const uint64_t type = v2 ? bytes[at] : littleEndian(&bytes[at], 2);
      const uint64_t size = littleEndian(&bytes[at + (v2 ? 1 : 2)], 2);
      const size_t data = at + messageHeader;
      if (size > end - data) return false;
      if (!visit(static_cast<unsigned>(type), bytes.data() + data, size)) return true;
      if (type == 0x0010 && size >= 16) blocks.push_back({littleEndian(&bytes[data], 8), littleEndian(&bytes[data + 8], 8)});
      at = data + size;
    }
  }
  return true;
}

}  // namespace cw::io::h5
