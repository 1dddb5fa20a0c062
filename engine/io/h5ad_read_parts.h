#pragma once
// Private to engine_io: pieces of the h5ad reader reused by backed mode. Callers hold
// cw::hdf5Mutex().
#include <string>

#include "format_readers.h"
#include "hdf5_file.h"

namespace cw::io {

DataFrame readH5adDataFrame(hid_t file, const std::string& path, Warnings& warnings);

}  // namespace cw::io
