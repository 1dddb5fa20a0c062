#pragma once
// Private to engine_io: the messages of an HDF5 object header, read from the file's bytes
// following the published format specification (version 1 and 2 headers, continuation
// blocks), every read bounds-checked. Used where libhdf5 1.10 offers no call for what we need
// (chunk index address) or would crash on damaged input before we could check it
// (variable-length string attributes).
#include <cstddef>
#include <cstdint>
#include <functional>
#include <vector>

namespace cw::io::h5 {

// Reads `count` bytes at file address `address` (HDF5's addresses: relative to the user block,
// if any) into `out`; false when out of range.
using ReadFileBytes = std::function<bool(uint64_t address, size_t count, std::vector<uint8_t>& out)>;

// Calls visit(type, data, size) for every message of the header at address `header`
// until it returns false. Returns false when the header cannot be walked.
bool forEachHeaderMessage(const ReadFileBytes& read, uint64_t header,
                          const std::function<bool(unsigned type, const uint8_t* data, size_t size)>& visit);

// Little-endian unsigned integer of `bytes` bytes.
uint64_t littleEndian(const uint8_t* p, size_t bytes);

}  // namespace cw::io::h5
