#include "cellwright/io/h5ad_stream_writer.h"

#include <random>

#include "cellwright/core/atomic_file.h"
#include "cellwright/core/errors.h"
#include "cellwright/io/hdf5_lock.h"
#include "h5ad_write_parts.h"
#include "hdf5_file.h"

namespace cw::io {
namespace fs = std::filesystem;

struct StreamingH5adWriter::Impl {
  fs::path target;
  fs::path tmp;
  Options options;
  h5::Handle file;
  h5::Handle xGroup;
  h5::Handle data;
  h5::Handle indices;
  std::vector<int64_t> indptr{0};  // 8 bytes per cell: kept in memory, written at the end
  bool finished = false;
};

StreamingH5adWriter::StreamingH5adWriter(const fs::path& target, const Options& options)
    : impl_(std::make_unique<Impl>()) {
  if (options.nVars <= 0 || options.nVars > INT32_MAX) throw Error("a streamed h5ad needs between 1 and 2^31 genes");
  impl_->target = target;
  impl_->options = options;
  impl_->tmp = temporarySibling(target);
  if (target.has_parent_path() && !fs::exists(target.parent_path())) fs::create_directories(target.parent_path());
  Hdf5Lock lock(hdf5Mutex());
  impl_->file = h5::createFile(impl_->tmp);
  h5ad::encode(impl_->file.get(), "anndata", "0.1.0");
  impl_->xGroup = h5::createGroup(impl_->file.get(), "X");
  h5ad::encode(impl_->xGroup.get(), "csr_matrix", "0.1.0");
  impl_->data = h5::createExtendible(impl_->xGroup.get(), "data", H5T_NATIVE_FLOAT, options.chunkElements, options.compress);
  impl_->indices =
      h5::createExtendible(impl_->xGroup.get(), "indices", H5T_NATIVE_INT32, options.chunkElements, options.compress);
}

StreamingH5adWriter::~StreamingH5adWriter() {
  if (!impl_ || impl_->finished) return;
  Hdf5Lock lock(hdf5Mutex());
  impl_->data.reset();
  impl_->indices.reset();
  impl_->xGroup.reset();
  impl_->file.reset();
  std::error_code ec;
  fs::remove(impl_->tmp, ec);
}

void StreamingH5adWriter::appendRows(const CsrMatrix& rows) {
  if (rows.cols != impl_->options.nVars)
    throw Error("streamed rows have " + std::to_string(rows.cols) + " genes, expected " +
                std::to_string(impl_->options.nVars));
  Hdf5Lock lock(hdf5Mutex());
  h5::appendToExtendible(impl_->data.get(), H5T_NATIVE_FLOAT, rows.data.data(), rows.nnz());
  h5::appendToExtendible(impl_->indices.get(), H5T_NATIVE_INT32, rows.indices.data(), rows.nnz());
  const int64_t offset = impl_->indptr.back();
  for (int64_t r = 0; r < rows.rows; ++r) impl_->indptr.push_back(offset + rows.indptr[r + 1]);
}

int64_t StreamingH5adWriter::rowsWritten() const { return static_cast<int64_t>(impl_->indptr.size()) - 1; }
int64_t StreamingH5adWriter::nnzWritten() const { return impl_->indptr.back(); }

void StreamingH5adWriter::finish(const DataFrame& obs, const DataFrame& var,
                                 const std::map<std::string, DenseMatrix>& obsm, const UnsDict& uns) {
  const int64_t nObs = rowsWritten();
  if (static_cast<int64_t>(obs.size()) != nObs || static_cast<int64_t>(var.size()) != impl_->options.nVars)
    throw Error("streamed h5ad: obs/var do not match the " + std::to_string(nObs) + " x " +
                std::to_string(impl_->options.nVars) + " matrix written");
  {
    Hdf5Lock lock(hdf5Mutex());
    const h5::WriteLayout layout{impl_->options.compress, 1 << 16};
    const hid_t f = impl_->file.get();
    h5::writeInt64ArrayAttribute(impl_->xGroup.get(), "shape", {nObs, impl_->options.nVars});
    h5::writeArray(impl_->xGroup.get(), "indptr", H5T_NATIVE_INT64, impl_->indptr.data(),
                   {static_cast<int64_t>(impl_->indptr.size())}, layout);
    impl_->data.reset();
    impl_->indices.reset();
    impl_->xGroup.reset();
    h5ad::writeDataFrame(f, "obs", obs, layout);
    h5ad::writeDataFrame(f, "var", var, layout);
    {
      h5::Handle g = h5ad::dictGroup(f, "obsm");
      for (const auto& [k, m] : obsm) h5ad::writeDense(g.get(), k, m, layout);
    }
    for (const char* empty : {"varm", "obsp", "varp", "layers"}) h5ad::dictGroup(f, empty);
    {
      h5::Handle g = h5ad::dictGroup(f, "uns");
      h5ad::writeUnsDict(g.get(), uns, layout, 0);
    }
    impl_->file.reset();
  }
  fs::rename(impl_->tmp, impl_->target);
  impl_->finished = true;
}

}  // namespace cw::io
