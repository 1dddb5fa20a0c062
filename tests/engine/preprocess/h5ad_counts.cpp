#include "h5ad_counts.h"

#include <hdf5.h>

#include <stdexcept>

#include "cellwright/io/hdf5_lock.h"

namespace cw::test {
namespace {

template <typename T>
std::vector<T> readDataset(hid_t file, const std::string& name, hid_t memType) {
  const hid_t ds = H5Dopen2(file, name.c_str(), H5P_DEFAULT);
  if (ds < 0) throw std::runtime_error("no dataset " + name);
  const hid_t space = H5Dget_space(ds);
  hsize_t n = 0;
  H5Sget_simple_extent_dims(space, &n, nullptr);
  std::vector<T> out(n);
  H5Dread(ds, memType, H5S_ALL, H5S_ALL, H5P_DEFAULT, out.data());
  H5Sclose(space);
  H5Dclose(ds);
  return out;
}

}  // namespace

CsrMatrix readH5adCsr(const std::string& path) {
  Hdf5Lock lock(hdf5Mutex());
  const hid_t file = H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  if (file < 0) throw std::runtime_error("cannot open " + path);
  CsrMatrix m;
  m.data = readDataset<float>(file, "X/data", H5T_NATIVE_FLOAT);
  m.indices = readDataset<int32_t>(file, "X/indices", H5T_NATIVE_INT32);
  m.indptr = readDataset<int64_t>(file, "X/indptr", H5T_NATIVE_INT64);
  const hid_t group = H5Gopen2(file, "X", H5P_DEFAULT);
  const hid_t attr = H5Aopen(group, "shape", H5P_DEFAULT);
  int64_t shape[2] = {0, 0};
  H5Aread(attr, H5T_NATIVE_INT64, shape);
  H5Aclose(attr);
  H5Gclose(group);
  H5Fclose(file);
  m.rows = shape[0];
  m.cols = shape[1];
  m.validate(path);
  return m;
}

std::vector<int32_t> readH5adCategoryCodes(const std::string& path, const std::string& column) {
  Hdf5Lock lock(hdf5Mutex());
  const hid_t file = H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  if (file < 0) throw std::runtime_error("cannot open " + path);
  auto codes = readDataset<int32_t>(file, "obs/" + column + "/codes", H5T_NATIVE_INT32);
  H5Fclose(file);
  return codes;
}

}  // namespace cw::test
