#pragma once
// Private to engine_io: the pieces of the h5ad layout, shared by writeH5ad() and the
// streaming writer. Callers hold cw::hdf5Mutex().
#include <string>

#include "cellwright/io/dataset.h"
#include "hdf5_file.h"

namespace cw::io::h5ad {

void encode(hid_t object, const std::string& type, const std::string& version);
h5::Handle dictGroup(hid_t parent, const std::string& name);
void writeCsr(hid_t parent, const std::string& name, const CsrMatrix& m, const std::string& dtype,
              const h5::WriteLayout& layout);
void writeDense(hid_t parent, const std::string& name, const DenseMatrix& m, const h5::WriteLayout& layout);
void writeDataFrame(hid_t parent, const std::string& name, const DataFrame& df, const h5::WriteLayout& layout);
void writeUnsDict(hid_t group, const UnsDict& dict, const h5::WriteLayout& layout, int depth);

}  // namespace cw::io::h5ad
