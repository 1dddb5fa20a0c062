#include "hdf5_file.h"

#include <zlib.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <thread>

#include <unistd.h>

#include "cellwright/core/errors.h"
#include "cellwright/io/hdf5_lock.h"
#include "parallel_read.h"

namespace cw::io::h5 {
namespace {

[[noreturn]] void fail(const std::string& what) { throw Error(what); }

void check(herr_t status, const std::string& what) {
  if (status < 0) fail(what);
}

hid_t checkId(hid_t id, const std::string& what) {
  if (id < 0) fail(what);
  return id;
}

int64_t elementCount(hid_t space) {
  const hssize_t n = H5Sget_simple_extent_npoints(space);
  if (n < 0) fail("cannot read the size of an HDF5 dataspace");
  return static_cast<int64_t>(n);
}

// Datasets and attributes share the read logic; this hides which one we hold.
struct Source {
  hid_t id;
  bool attribute;
  Handle type() const { return Handle(checkId(attribute ? H5Aget_type(id) : H5Dget_type(id), "cannot read a type")); }
  Handle space() const {
    return Handle(checkId(attribute ? H5Aget_space(id) : H5Dget_space(id), "cannot read a dataspace"));
  }
  void read(hid_t memType, void* buffer, const std::string& what) const {
    const herr_t status = attribute ? H5Aread(id, memType, buffer)
                                    : H5Dread(id, memType, H5S_ALL, H5S_ALL, H5P_DEFAULT, buffer);
    check(status, "cannot read " + what + " (corrupt or truncated file?)");
  }
  std::string name() const {
    if (!attribute) return objectName(id);
    char buf[256] = {0};
    H5Aget_name(id, sizeof buf - 1, buf);
    return std::string("attribute '") + buf + "'";
  }
};

TypeInfo typeInfoOf(hid_t type) {
  TypeInfo info;
  switch (H5Tget_class(type)) {
    case H5T_INTEGER:
      info.cls = H5Tget_sign(type) == H5T_SGN_NONE ? TypeInfo::Class::Unsigned : TypeInfo::Class::Integer;
      info.size = H5Tget_size(type);
      break;
    case H5T_FLOAT:
      info.cls = TypeInfo::Class::Float;
      info.size = H5Tget_size(type);
      break;
    case H5T_ENUM:
      info.cls = TypeInfo::Class::Bool;
      info.size = H5Tget_size(type);
      break;
    case H5T_STRING:
      info.cls = TypeInfo::Class::String;
      info.variableString = H5Tis_variable_str(type) > 0;
      info.size = info.variableString ? 0 : H5Tget_size(type);
      break;
    default: break;
  }
  return info;
}

// Whole 1-D deflated chunked datasets stored in exactly the requested type:
// raw chunks come straight from the file with H5Dread_chunk and are inflated on worker
// threads, skipping HDF5's serial filter pipeline and its chunk-cache copies. Returns false
// when the dataset does not qualify (the caller then uses H5Dread).
bool readWholeDirect(hid_t dataset, hid_t memType, void* out, size_t elementSize, int64_t n,
                     const PieceVisitor& visit) {
  Handle dcpl(H5Dget_create_plist(dataset));
  if (!dcpl.valid() || H5Pget_layout(dcpl.get()) != H5D_CHUNKED) return false;
  hsize_t chunk = 0;
  if (H5Pget_chunk(dcpl.get(), 1, &chunk) != 1 || chunk == 0) return false;
  Handle fileType(H5Dget_type(dataset));
  if (H5Tequal(fileType.get(), memType) <= 0 || H5Tget_size(memType) != elementSize) return false;
  const int nFilters = H5Pget_nfilters(dcpl.get());
  bool deflated = false;
  if (nFilters == 1) {
    unsigned flags = 0;
    size_t nValues = 0;
    unsigned values[8];
    unsigned config = 0;
    if (H5Pget_filter2(dcpl.get(), 0, &flags, &nValues, values, 0, nullptr, &config) != H5Z_FILTER_DEFLATE) return false;
    deflated = true;
  } else {
    return false;  // unfiltered chunks: H5Dread is as fast and needs no per-chunk index lookups
  }
  const size_t chunkBytes = chunk * elementSize;
  const int64_t nChunks = (n + static_cast<int64_t>(chunk) - 1) / static_cast<int64_t>(chunk);
  char* dst = static_cast<char*>(out);
  const int64_t batch = 256;
  std::vector<std::vector<char>> raw(static_cast<size_t>(batch));
  std::vector<uint32_t> masks(static_cast<size_t>(batch));
  const unsigned workers = ioThreads();
  for (int64_t first = 0; first < nChunks; first += batch) {
    const int64_t last = std::min(nChunks, first + batch);
    for (int64_t c = first; c < last; ++c) {
      hsize_t offset = static_cast<hsize_t>(c) * chunk;
      const size_t valid = std::min<size_t>(chunkBytes, (static_cast<size_t>(n) - offset) * elementSize);
      hsize_t stored = 0;
      auto& buffer = raw[c - first];
      buffer.clear();
      if (H5Dget_chunk_storage_size(dataset, &offset, &stored) < 0 || stored == 0) {
        std::memset(dst + offset * elementSize, 0, valid);  // never written: the fill value
        continue;
      }
      if (stored > chunkBytes + chunkBytes / 8 + 4096) fail(objectName(dataset) + " is corrupt: a chunk is larger than possible");
      if (!deflated && stored == chunkBytes && valid == chunkBytes) {
        check(H5Dread_chunk(dataset, H5P_DEFAULT, &offset, &masks[c - first], dst + offset * elementSize),
              "cannot read " + objectName(dataset) + " (corrupt or truncated file?)");
        continue;
      }
      buffer.resize(stored);
      check(H5Dread_chunk(dataset, H5P_DEFAULT, &offset, &masks[c - first], buffer.data()),
            "cannot read " + objectName(dataset) + " (corrupt or truncated file?)");
    }
    std::atomic<int64_t> next{first};
    std::atomic<bool> corrupt{false};
    auto inflateChunks = [&] {
      std::vector<char> scratch(chunkBytes);
      // Places chunk c in `dst`; false when it is damaged.
      auto place = [&](int64_t c) {
        const auto& buffer = raw[c - first];
        if (buffer.empty()) return true;  // never written: already zero-filled above
        const size_t offset = static_cast<size_t>(c) * chunk * elementSize;
        const size_t valid = std::min(chunkBytes, static_cast<size_t>(n) * elementSize - offset);
        const bool filtered = deflated && (masks[c - first] & 1u) == 0;
        if (!filtered) {
          if (buffer.size() < valid) return false;
          std::memcpy(dst + offset, buffer.data(), valid);
          return true;
        }
        uLongf length = static_cast<uLongf>(chunkBytes);
        char* target = valid == chunkBytes ? dst + offset : scratch.data();
        const int rc = uncompress(reinterpret_cast<Bytef*>(target), &length,
                                  reinterpret_cast<const Bytef*>(buffer.data()), static_cast<uLong>(buffer.size()));
        if (rc != Z_OK || length < valid) return false;
        if (target == scratch.data()) std::memcpy(dst + offset, scratch.data(), valid);
        return true;
      };
      for (int64_t c = next++; c < last; c = next++) {
        if (!place(c)) {
          corrupt = true;
          continue;
        }
        // Still in cache: let the caller scan it now.
        const int64_t begin = c * static_cast<int64_t>(chunk);
        if (visit && !corrupt) visit(dst + static_cast<size_t>(begin) * elementSize, begin, std::min(n, begin + static_cast<int64_t>(chunk)));
      }
    };
    std::vector<std::thread> pool;
    for (unsigned t = 1; t < workers && t < static_cast<unsigned>(last - first); ++t) pool.emplace_back(inflateChunks);
    inflateChunks();
    for (auto& th : pool) th.join();
    if (corrupt) fail(objectName(dataset) + " is corrupt: a compressed chunk does not decompress");
  }
  return true;
}

// A corrupt dataspace can claim terabytes: refuse before allocating what no machine here has.
void checkFitsInMemory(int64_t n, size_t elementSize, const std::string& what) {
  static const double physical = double(sysconf(_SC_PHYS_PAGES)) * double(sysconf(_SC_PAGESIZE));
  const double bytes = double(n) * double(elementSize);
  if (n < 0 || bytes > physical)
    throw Error(what + " claims " + std::to_string(static_cast<int64_t>(bytes / 1e9)) +
                " GB, more than this machine's memory (corrupt file? for large files use backed mode)");
}

template <typename T>
std::vector<T> readNumeric(const Source& src, hid_t memType, const PieceVisitor& visit = {},
                           std::vector<T> buffer = {}) {
  Hdf5Lock lock(hdf5Mutex());
  Handle type = src.type();
  const TypeInfo info = typeInfoOf(type.get());
  Handle space = src.space();
  const int64_t n = elementCount(space.get());
  checkFitsInMemory(n, std::max(sizeof(T), info.size), src.name());
  std::vector<T> out = std::move(buffer);
  if (out.size() != static_cast<size_t>(n)) resizeForOverwrite(out, static_cast<size_t>(n));
  if (n == 0) return out;
  if (info.cls == TypeInfo::Class::Bool) {
    // numpy bool is an HDF5 enum that HDF5 will not convert to numbers: read raw bytes.
    std::vector<unsigned char> raw(static_cast<size_t>(n) * info.size);
    src.read(type.get(), raw.data(), src.name());
    for (int64_t i = 0; i < n; ++i) {
      bool nonZero = false;
      for (size_t b = 0; b < info.size; ++b) nonZero = nonZero || raw[i * info.size + b] != 0;
      out[i] = nonZero ? T(1) : T(0);
    }
    visitInParallel(out.data(), sizeof(T), n, visit);
    return out;
  }
  if (info.cls != TypeInfo::Class::Integer && info.cls != TypeInfo::Class::Unsigned &&
      info.cls != TypeInfo::Class::Float)
    fail(src.name() + " should hold numbers but holds " + info.numpyName());
  if (!src.attribute && (readRawParallel(src.id, memType, out.data(), sizeof(T), n, visit) ||
                         readDeflatedParallel(src.id, memType, out.data(), sizeof(T), n, visit) ||
                         readWholeDirect(src.id, memType, out.data(), sizeof(T), n, visit) ||
                         readSerialVisiting(src.id, memType, out.data(), sizeof(T), n, visit)))
    return out;
  src.read(memType, out.data(), src.name());
  visitInParallel(out.data(), sizeof(T), n, visit);
  return out;
}

std::vector<std::string> readStringsFrom(const Source& src) {
  Hdf5Lock lock(hdf5Mutex());
  Handle type = src.type();
  const TypeInfo info = typeInfoOf(type.get());
  if (info.cls != TypeInfo::Class::String) fail(src.name() + " should hold text but holds " + info.numpyName());
  Handle space = src.space();
  const int64_t n = elementCount(space.get());
  checkFitsInMemory(n, 32 + info.size, src.name());
  std::vector<std::string> out(static_cast<size_t>(n));
  if (n == 0) return out;
  Handle memType(H5Tcopy(H5T_C_S1));
  H5Tset_cset(memType.get(), H5Tget_cset(type.get()));
  if (info.variableString) {
    if (!src.attribute) checkVariableStrings(src.id, n);
    check(H5Tset_size(memType.get(), H5T_VARIABLE), "cannot set up a string type");
    std::vector<char*> ptrs(static_cast<size_t>(n), nullptr);
    try {
      src.read(memType.get(), ptrs.data(), src.name());
    } catch (const Error&) {
      for (char* p : ptrs) H5free_memory(p);  // strings read before the failure
      throw;
    }
    for (int64_t i = 0; i < n; ++i)
      if (ptrs[i]) out[i] = ptrs[i];
    if (src.attribute) {
      for (char* p : ptrs) H5free_memory(p);
    } else {
      H5Dvlen_reclaim(memType.get(), space.get(), H5P_DEFAULT, ptrs.data());
    }
    return out;
  }
  const size_t width = info.size;
  check(H5Tset_size(memType.get(), width), "cannot set up a string type");
  H5Tset_strpad(memType.get(), H5T_STR_NULLPAD);
  std::vector<char> raw(static_cast<size_t>(n) * width);
  src.read(memType.get(), raw.data(), src.name());
  for (int64_t i = 0; i < n; ++i) {
    const char* begin = raw.data() + i * width;
    size_t len = strnlen(begin, width);
    while (len > 0 && begin[len - 1] == ' ') --len;  // space-padded legacy strings
    out[i].assign(begin, len);
  }
  return out;
}

template <typename T>
std::vector<T> readSlab(hid_t dataset, hid_t memType, int64_t start, int64_t count, int64_t rowWidth) {
  Hdf5Lock lock(hdf5Mutex());
  checkFitsInMemory(count * rowWidth, sizeof(T), objectName(dataset));
  std::vector<T> out(static_cast<size_t>(count * rowWidth));
  if (count == 0) return out;
  Handle fileSpace(checkId(H5Dget_space(dataset), "cannot read a dataspace"));
  const int rank = H5Sget_simple_extent_ndims(fileSpace.get());
  hsize_t offsets[2] = {static_cast<hsize_t>(start), 0};
  hsize_t counts[2] = {static_cast<hsize_t>(count), static_cast<hsize_t>(rowWidth)};
  check(H5Sselect_hyperslab(fileSpace.get(), H5S_SELECT_SET, offsets, nullptr, counts, nullptr),
        "cannot select part of " + objectName(dataset));
  hsize_t memCount = static_cast<hsize_t>(count * rowWidth);
  Handle memSpace(H5Screate_simple(1, &memCount, nullptr));
  (void)rank;
  check(H5Dread(dataset, memType, memSpace.get(), fileSpace.get(), H5P_DEFAULT, out.data()),
        "cannot read " + objectName(dataset) + " (corrupt or truncated file?)");
  return out;
}

herr_t collectName(hid_t, const char* name, const H5L_info_t*, void* data) {
  static_cast<std::vector<std::string>*>(data)->emplace_back(name);
  return 0;
}

Handle stringType(bool variable, size_t width = 0) {
  Handle t(H5Tcopy(H5T_C_S1));
  H5Tset_size(t.get(), variable ? H5T_VARIABLE : width);
  H5Tset_cset(t.get(), H5T_CSET_UTF8);
  return t;
}

Handle boolType() {
  // h5py's numpy-bool: an int8 enum with FALSE = 0 and TRUE = 1.
  Handle t(H5Tenum_create(H5T_NATIVE_INT8));
  int8_t v = 0;
  H5Tenum_insert(t.get(), "FALSE", &v);
  v = 1;
  H5Tenum_insert(t.get(), "TRUE", &v);
  return t;
}

Handle datasetCreateProps(const std::vector<hsize_t>& dims, const WriteLayout& layout) {
  Handle props(H5Pcreate(H5P_DATASET_CREATE));
  int64_t total = 1;
  for (hsize_t d : dims) total *= static_cast<int64_t>(d);
  if (layout.compress && total > 0) {
    std::vector<hsize_t> chunk = dims;
    // Chunk along the first axis, keeping whole rows.
    int64_t rowSize = total / static_cast<int64_t>(dims[0]);
    int64_t rows = std::max<int64_t>(1, layout.chunkElements / std::max<int64_t>(1, rowSize));
    chunk[0] = static_cast<hsize_t>(std::min<int64_t>(rows, static_cast<int64_t>(dims[0])));
    H5Pset_chunk(props.get(), static_cast<int>(chunk.size()), chunk.data());
    H5Pset_deflate(props.get(), 4);
  }
  return props;
}

Handle scalarSpace() { return Handle(H5Screate(H5S_SCALAR)); }

}  // namespace

Handle& Handle::operator=(Handle&& other) noexcept {
  if (this != &other) {
    reset();
    id_ = other.id_;
    other.id_ = H5I_INVALID_HID;
  }
  return *this;
}

Handle::~Handle() { reset(); }

void Handle::reset() noexcept {
  if (id_ < 0) return;
  Hdf5Lock lock(hdf5Mutex());
  switch (H5Iget_type(id_)) {
    case H5I_FILE: H5Fclose(id_); break;
    case H5I_GROUP: H5Gclose(id_); break;
    case H5I_DATASET: H5Dclose(id_); break;
    case H5I_DATATYPE: H5Tclose(id_); break;
    case H5I_DATASPACE: H5Sclose(id_); break;
    case H5I_ATTR: H5Aclose(id_); break;
    case H5I_GENPROP_LST: H5Pclose(id_); break;
    default: break;
  }
  id_ = H5I_INVALID_HID;
}

std::string TypeInfo::numpyName() const {
  switch (cls) {
    case Class::Integer: return "int" + std::to_string(size * 8);
    case Class::Unsigned: return "uint" + std::to_string(size * 8);
    case Class::Float: return "float" + std::to_string(size * 8);
    case Class::Bool: return "bool";
    case Class::String: return "str";
    case Class::Other: return "an unsupported type";
  }
  return "an unsupported type";
}

void silenceLibraryErrors() {
  Hdf5Lock lock(hdf5Mutex());
  H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
}

Handle openFile(const std::filesystem::path& path, bool readWrite) {
  Hdf5Lock lock(hdf5Mutex());
  silenceLibraryErrors();
  if (H5Fis_hdf5(path.c_str()) <= 0)
    fail("'" + path.string() + "' is not an HDF5 file (or it is truncated)");
  hid_t id = H5Fopen(path.c_str(), readWrite ? H5F_ACC_RDWR : H5F_ACC_RDONLY, H5P_DEFAULT);
  if (id < 0) fail("cannot open '" + path.string() + "': the HDF5 file is corrupt or truncated");
  Handle file(id);
  checkGroupNameTable(file.get());
  return file;
}

Handle createFile(const std::filesystem::path& path) {
  Hdf5Lock lock(hdf5Mutex());
  silenceLibraryErrors();
  hid_t id = H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
  if (id < 0) fail("cannot create '" + path.string() + "' (is the folder writable?)");
  return Handle(id);
}

bool exists(hid_t location, const std::string& path) {
  Hdf5Lock lock(hdf5Mutex());
  size_t pos = 0;
  while (true) {
    pos = path.find('/', pos + 1);
    const std::string prefix = path.substr(0, pos);
    if (!prefix.empty() && H5Lexists(location, prefix.c_str(), H5P_DEFAULT) <= 0) return false;
    if (pos == std::string::npos) return true;
  }
}

static H5I_type_t objectType(hid_t location, const std::string& path) {
  if (!exists(location, path)) return H5I_BADID;
  Hdf5Lock lock(hdf5Mutex());
  hid_t obj = H5Oopen(location, path.c_str(), H5P_DEFAULT);
  if (obj < 0) return H5I_BADID;
  Handle h(obj);
  return H5Iget_type(obj);
}

bool isGroup(hid_t location, const std::string& path) { return objectType(location, path) == H5I_GROUP; }
bool isDataset(hid_t location, const std::string& path) { return objectType(location, path) == H5I_DATASET; }

Handle openGroup(hid_t location, const std::string& path) {
  Hdf5Lock lock(hdf5Mutex());
  hid_t id = H5Gopen2(location, path.c_str(), H5P_DEFAULT);
  if (id < 0) fail("the file has no group '" + path + "' where one was expected (corrupt file?)");
  Handle group(id);
  checkGroupNameTable(group.get());
  return group;
}

Handle openDataset(hid_t location, const std::string& path) {
  Hdf5Lock lock(hdf5Mutex());
  // No chunk cache: whole-dataset reads then go from the file straight into our buffer instead
  // of through the cache with a copy (partial reads use openDatasetCached).
  Handle access(H5Pcreate(H5P_DATASET_ACCESS));
  H5Pset_chunk_cache(access.get(), 0, 0, 1.0);
  hid_t id = H5Dopen2(location, path.c_str(), access.get());
  if (id < 0) fail("the file has no dataset '" + path + "' where one was expected (corrupt file?)");
  return Handle(id);
}

Handle openDatasetCached(hid_t location, const std::string& path, size_t cacheBytes) {
  Hdf5Lock lock(hdf5Mutex());
  Handle access(H5Pcreate(H5P_DATASET_ACCESS));
  H5Pset_chunk_cache(access.get(), 12421, cacheBytes, 1.0);
  hid_t id = H5Dopen2(location, path.c_str(), access.get());
  if (id < 0) fail("the file has no dataset '" + path + "' where one was expected (corrupt file?)");
  return Handle(id);
}

std::vector<std::string> childNames(hid_t group) {
  Hdf5Lock lock(hdf5Mutex());
  std::vector<std::string> names;
  hsize_t index = 0;
  check(H5Literate(group, H5_INDEX_NAME, H5_ITER_INC, &index, collectName, &names),
        "cannot list the members of " + objectName(group));
  return names;
}

std::string objectName(hid_t object) {
  Hdf5Lock lock(hdf5Mutex());
  char buf[512] = {0};
  if (H5Iget_name(object, buf, sizeof buf - 1) < 0) return "an HDF5 object";
  return buf;
}

TypeInfo datasetType(hid_t dataset) {
  Hdf5Lock lock(hdf5Mutex());
  Handle type(checkId(H5Dget_type(dataset), "cannot read the type of " + objectName(dataset)));
  return typeInfoOf(type.get());
}

std::vector<int64_t> datasetShape(hid_t dataset) {
  Hdf5Lock lock(hdf5Mutex());
  Handle space(checkId(H5Dget_space(dataset), "cannot read the shape of " + objectName(dataset)));
  const int rank = H5Sget_simple_extent_ndims(space.get());
  if (rank < 0 || rank > 32) fail("cannot read the shape of " + objectName(dataset));
  std::vector<hsize_t> dims(static_cast<size_t>(rank));
  H5Sget_simple_extent_dims(space.get(), dims.data(), nullptr);
  return std::vector<int64_t>(dims.begin(), dims.end());
}

std::vector<double> readDoubles(hid_t ds) { return readNumeric<double>({ds, false}, H5T_NATIVE_DOUBLE); }
std::vector<float> readFloats(hid_t ds, const PieceVisitor& visit, std::vector<float> buffer) {
  return readNumeric<float>({ds, false}, H5T_NATIVE_FLOAT, visit, std::move(buffer));
}
std::vector<int64_t> readInt64(hid_t ds) { return readNumeric<int64_t>({ds, false}, H5T_NATIVE_INT64); }
std::vector<int32_t> readInt32(hid_t ds, const PieceVisitor& visit, std::vector<int32_t> buffer) {
  return readNumeric<int32_t>({ds, false}, H5T_NATIVE_INT32, visit, std::move(buffer));
}
std::vector<int8_t> readBools(hid_t ds) { return readNumeric<int8_t>({ds, false}, H5T_NATIVE_INT8); }
std::vector<std::string> readStrings(hid_t ds) { return readStringsFrom({ds, false}); }

std::vector<float> readFloatsSlab(hid_t ds, int64_t start, int64_t count) {
  return readSlab<float>(ds, H5T_NATIVE_FLOAT, start, count, 1);
}
std::vector<int64_t> readInt64Slab(hid_t ds, int64_t start, int64_t count) {
  return readSlab<int64_t>(ds, H5T_NATIVE_INT64, start, count, 1);
}
std::vector<int32_t> readInt32Slab(hid_t ds, int64_t start, int64_t count) {
  return readSlab<int32_t>(ds, H5T_NATIVE_INT32, start, count, 1);
}
std::vector<float> readFloatRows(hid_t ds, int64_t start, int64_t count) {
  const auto shape = datasetShape(ds);
  if (shape.size() != 2) fail(objectName(ds) + " should be a 2-D matrix");
  return readSlab<float>(ds, H5T_NATIVE_FLOAT, start, count, shape[1]);
}

std::vector<CompoundMember> compoundMembers(hid_t dataset) {
  Hdf5Lock lock(hdf5Mutex());
  Handle type(H5Dget_type(dataset));
  if (!type.valid() || H5Tget_class(type.get()) != H5T_COMPOUND) return {};
  const int n = H5Tget_nmembers(type.get());
  std::vector<CompoundMember> out;
  for (int i = 0; i < std::max(0, n); ++i) {
    char* name = H5Tget_member_name(type.get(), static_cast<unsigned>(i));
    if (!name) fail("cannot read the fields of " + objectName(dataset) + " (corrupt file?)");
    CompoundMember member{name, {}};
    H5free_memory(name);
    Handle memberType(H5Tget_member_type(type.get(), static_cast<unsigned>(i)));
    if (memberType.valid()) member.type = typeInfoOf(memberType.get());
    out.push_back(std::move(member));
  }
  return out;
}

// Reads field `member` of every record into `buffer` as `fieldType` (a compound with only it).
static void readField(hid_t dataset, const std::string& member, hid_t fieldType, size_t fieldSize, void* buffer) {
  Handle memType(H5Tcreate(H5T_COMPOUND, fieldSize));
  check(H5Tinsert(memType.get(), member.c_str(), 0, fieldType), "cannot read field '" + member + "'");
  check(H5Dread(dataset, memType.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, buffer),
        "cannot read field '" + member + "' of " + objectName(dataset) + " (corrupt or truncated file?)");
}

static TypeInfo memberType(hid_t dataset, const std::string& member, Handle& fileMemberType) {
  Handle type(H5Dget_type(dataset));
  const int index = H5Tget_member_index(type.get(), member.c_str());
  if (index < 0) fail(objectName(dataset) + " has no field '" + member + "'");
  fileMemberType = Handle(H5Tget_member_type(type.get(), static_cast<unsigned>(index)));
  return typeInfoOf(fileMemberType.get());
}

std::vector<double> readCompoundNumbers(hid_t dataset, const std::string& member) {
  Hdf5Lock lock(hdf5Mutex());
  Handle fileType;
  const TypeInfo info = memberType(dataset, member, fileType);
  Handle space(checkId(H5Dget_space(dataset), "cannot read a dataspace"));
  const int64_t n = elementCount(space.get());
  checkFitsInMemory(n, 8, objectName(dataset));
  std::vector<double> out(static_cast<size_t>(n));
  if (n == 0) return out;
  if (info.cls == TypeInfo::Class::Bool && info.size == 1) {
    std::vector<int8_t> raw(static_cast<size_t>(n));  // numpy bool: an enum HDF5 will not convert
    readField(dataset, member, fileType.get(), 1, raw.data());
    for (int64_t i = 0; i < n; ++i) out[i] = raw[i] != 0 ? 1.0 : 0.0;
    return out;
  }
  if (info.cls != TypeInfo::Class::Integer && info.cls != TypeInfo::Class::Unsigned &&
      info.cls != TypeInfo::Class::Float)
    fail("field '" + member + "' of " + objectName(dataset) + " holds " + info.numpyName() + ", not numbers");
  readField(dataset, member, H5T_NATIVE_DOUBLE, sizeof(double), out.data());
  return out;
}

std::vector<std::string> readCompoundStrings(hid_t dataset, const std::string& member) {
  Hdf5Lock lock(hdf5Mutex());
  Handle fileType;
  const TypeInfo info = memberType(dataset, member, fileType);
  if (info.cls != TypeInfo::Class::String || info.variableString || info.size == 0 || info.size > 65536)
    fail("field '" + member + "' of " + objectName(dataset) + " is not fixed-width text");
  Handle space(checkId(H5Dget_space(dataset), "cannot read a dataspace"));
  const int64_t n = elementCount(space.get());
  checkFitsInMemory(n, info.size + 32, objectName(dataset));
  std::vector<char> raw(static_cast<size_t>(n) * info.size);
  std::vector<std::string> out(static_cast<size_t>(n));
  if (n == 0) return out;
  readField(dataset, member, fileType.get(), info.size, raw.data());
  for (int64_t i = 0; i < n; ++i) {
    const char* text = raw.data() + static_cast<size_t>(i) * info.size;
    out[i].assign(text, strnlen(text, info.size));  // numpy 'S' pads with NULs
  }
  return out;
}

bool hasAttribute(hid_t object, const std::string& name) {
  Hdf5Lock lock(hdf5Mutex());
  checkAttributeMessages(object);
  return H5Aexists(object, name.c_str()) > 0;
}

static Handle openAttribute(hid_t object, const std::string& name) {
  return Handle(checkId(H5Aopen(object, name.c_str(), H5P_DEFAULT),
                        "cannot read attribute '" + name + "' of " + objectName(object)));
}

std::optional<std::string> readStringAttribute(hid_t object, const std::string& name) {
  Hdf5Lock lock(hdf5Mutex());
  if (!hasAttribute(object, name)) return std::nullopt;
  Handle attr = openAttribute(object, name);
  Handle type(H5Aget_type(attr.get()));
  if (H5Tget_class(type.get()) != H5T_STRING) return std::nullopt;
  if (H5Tis_variable_str(type.get()) > 0) checkVariableStringAttribute(object, name);
  auto values = readStringsFrom({attr.get(), true});
  if (values.empty()) return std::string();
  return values.front();
}

std::vector<std::string> readStringArrayAttribute(hid_t object, const std::string& name) {
  Hdf5Lock lock(hdf5Mutex());
  if (!hasAttribute(object, name)) return {};
  Handle attr = openAttribute(object, name);
  Handle type(H5Aget_type(attr.get()));
  // An empty column-order is written by h5py as an empty float array.
  if (H5Tget_class(type.get()) != H5T_STRING) return {};
  if (H5Tis_variable_str(type.get()) > 0) checkVariableStringAttribute(object, name);
  return readStringsFrom({attr.get(), true});
}

std::vector<int64_t> readIntArrayAttribute(hid_t object, const std::string& name) {
  Hdf5Lock lock(hdf5Mutex());
  if (!hasAttribute(object, name)) return {};
  Handle attr = openAttribute(object, name);
  return readNumeric<int64_t>({attr.get(), true}, H5T_NATIVE_INT64);
}

std::optional<bool> readBoolAttribute(hid_t object, const std::string& name) {
  Hdf5Lock lock(hdf5Mutex());
  if (!hasAttribute(object, name)) return std::nullopt;
  Handle attr = openAttribute(object, name);
  auto values = readNumeric<int8_t>({attr.get(), true}, H5T_NATIVE_INT8);
  if (values.empty()) return std::nullopt;
  return values.front() != 0;
}

Handle createGroup(hid_t location, const std::string& name) {
  Hdf5Lock lock(hdf5Mutex());
  return Handle(checkId(H5Gcreate2(location, name.c_str(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT),
                        "cannot create group '" + name + "'"));
}

static void writeAttribute(hid_t object, const std::string& name, hid_t type, hid_t space, const void* data) {
  if (H5Aexists(object, name.c_str()) > 0) H5Adelete(object, name.c_str());
  Handle attr(checkId(H5Acreate2(object, name.c_str(), type, space, H5P_DEFAULT, H5P_DEFAULT),
                      "cannot write attribute '" + name + "'"));
  check(H5Awrite(attr.get(), type, data), "cannot write attribute '" + name + "'");
}

void writeStringAttribute(hid_t object, const std::string& name, const std::string& value) {
  Hdf5Lock lock(hdf5Mutex());
  Handle type = stringType(true);
  Handle space = scalarSpace();
  const char* ptr = value.c_str();
  writeAttribute(object, name, type.get(), space.get(), &ptr);
}

void writeStringArrayAttribute(hid_t object, const std::string& name, const std::vector<std::string>& values) {
  Hdf5Lock lock(hdf5Mutex());
  if (values.empty()) return writeEmptyFloatArrayAttribute(object, name);
  Handle type = stringType(true);
  hsize_t n = values.size();
  Handle space(H5Screate_simple(1, &n, nullptr));
  std::vector<const char*> ptrs;
  for (const auto& v : values) ptrs.push_back(v.c_str());
  writeAttribute(object, name, type.get(), space.get(), ptrs.data());
}

void writeInt64ArrayAttribute(hid_t object, const std::string& name, const std::vector<int64_t>& values) {
  Hdf5Lock lock(hdf5Mutex());
  hsize_t n = values.size();
  Handle space(H5Screate_simple(1, &n, nullptr));
  writeAttribute(object, name, H5T_NATIVE_INT64, space.get(), values.data());
}

void writeBoolAttribute(hid_t object, const std::string& name, bool value) {
  Hdf5Lock lock(hdf5Mutex());
  Handle type = boolType();
  Handle space = scalarSpace();
  int8_t v = value ? 1 : 0;
  writeAttribute(object, name, type.get(), space.get(), &v);
}

void writeEmptyFloatArrayAttribute(hid_t object, const std::string& name) {
  Hdf5Lock lock(hdf5Mutex());
  hsize_t n = 0;
  Handle space(H5Screate_simple(1, &n, nullptr));
  double dummy = 0;
  writeAttribute(object, name, H5T_NATIVE_DOUBLE, space.get(), &dummy);
}

static Handle writeTyped(hid_t location, const std::string& name, hid_t fileType, hid_t memType, const void* data,
                         const std::vector<int64_t>& dims, const WriteLayout& layout) {
  std::vector<hsize_t> hdims(dims.begin(), dims.end());
  Handle space(dims.empty() ? H5Screate(H5S_SCALAR)
                            : H5Screate_simple(static_cast<int>(hdims.size()), hdims.data(), nullptr));
  Handle props = dims.empty() ? Handle(H5Pcreate(H5P_DATASET_CREATE)) : datasetCreateProps(hdims, layout);
  Handle ds(checkId(H5Dcreate2(location, name.c_str(), fileType, space.get(), H5P_DEFAULT, props.get(), H5P_DEFAULT),
                    "cannot create dataset '" + name + "'"));
  int64_t total = 1;
  for (int64_t d : dims) total *= d;
  const size_t elementSize = H5Tget_size(memType);
  constexpr int64_t kSlab = int64_t(1) << 20;
  if (dims.size() == 1 && total > kSlab) {
    // Slabs of 1M elements: one huge pwrite is throttled by the kernel's dirty-page
    // accounting far more than many medium ones (measured: 10x slower for 128 MB).
    Handle fileSpace(H5Dget_space(ds.get()));
    for (int64_t start = 0; start < total; start += kSlab) {
      hsize_t offset = static_cast<hsize_t>(start), count = static_cast<hsize_t>(std::min(kSlab, total - start));
      H5Sselect_hyperslab(fileSpace.get(), H5S_SELECT_SET, &offset, nullptr, &count, nullptr);
      Handle memSpace(H5Screate_simple(1, &count, nullptr));
      check(H5Dwrite(ds.get(), memType, memSpace.get(), fileSpace.get(), H5P_DEFAULT,
                     static_cast<const char*>(data) + offset * elementSize),
            "cannot write dataset '" + name + "' (disk full?)");
    }
  } else if (total > 0) {
    check(H5Dwrite(ds.get(), memType, H5S_ALL, H5S_ALL, H5P_DEFAULT, data), "cannot write dataset '" + name + "' (disk full?)");
  }
  return ds;
}

Handle writeArray(hid_t location, const std::string& name, hid_t memType, const void* data,
                  const std::vector<int64_t>& dims, const WriteLayout& layout) {
  Hdf5Lock lock(hdf5Mutex());
  return writeTyped(location, name, memType, memType, data, dims, layout);
}

Handle writeStrings(hid_t location, const std::string& name, const std::vector<std::string>& values,
                    const WriteLayout& layout) {
  Hdf5Lock lock(hdf5Mutex());
  Handle type = stringType(true);
  std::vector<const char*> ptrs;
  ptrs.reserve(values.size());
  for (const auto& v : values) ptrs.push_back(v.c_str());
  return writeTyped(location, name, type.get(), type.get(), ptrs.data(), {static_cast<int64_t>(values.size())}, layout);
}

Handle writeScalarString(hid_t location, const std::string& name, const std::string& value) {
  Hdf5Lock lock(hdf5Mutex());
  Handle type = stringType(true);
  const char* ptr = value.c_str();
  return writeTyped(location, name, type.get(), type.get(), &ptr, {}, {});
}

Handle writeBools(hid_t location, const std::string& name, const std::vector<int8_t>& values,
                  const WriteLayout& layout) {
  Hdf5Lock lock(hdf5Mutex());
  Handle type = boolType();
  return writeTyped(location, name, type.get(), type.get(), values.data(), {static_cast<int64_t>(values.size())},
                    layout);
}

Handle writeScalarBool(hid_t location, const std::string& name, bool value) {
  Hdf5Lock lock(hdf5Mutex());
  Handle type = boolType();
  int8_t v = value ? 1 : 0;
  return writeTyped(location, name, type.get(), type.get(), &v, {}, {});
}

Handle createExtendible(hid_t location, const std::string& name, hid_t memType, int64_t chunkElements,
                        bool compress) {
  Hdf5Lock lock(hdf5Mutex());
  hsize_t zero = 0, unlimited = H5S_UNLIMITED, chunk = static_cast<hsize_t>(chunkElements);
  Handle space(H5Screate_simple(1, &zero, &unlimited));
  Handle props(H5Pcreate(H5P_DATASET_CREATE));
  H5Pset_chunk(props.get(), 1, &chunk);
  if (compress) H5Pset_deflate(props.get(), 4);
  return Handle(checkId(H5Dcreate2(location, name.c_str(), memType, space.get(), H5P_DEFAULT, props.get(), H5P_DEFAULT),
                        "cannot create dataset '" + name + "'"));
}

void appendToExtendible(hid_t dataset, hid_t memType, const void* data, int64_t count) {
  if (count <= 0) return;
  Hdf5Lock lock(hdf5Mutex());
  const auto shape = datasetShape(dataset);
  hsize_t oldSize = static_cast<hsize_t>(shape.at(0));
  hsize_t newSize = oldSize + static_cast<hsize_t>(count);
  check(H5Dset_extent(dataset, &newSize), "cannot grow " + objectName(dataset));
  Handle fileSpace(H5Dget_space(dataset));
  hsize_t n = static_cast<hsize_t>(count);
  H5Sselect_hyperslab(fileSpace.get(), H5S_SELECT_SET, &oldSize, nullptr, &n, nullptr);
  Handle memSpace(H5Screate_simple(1, &n, nullptr));
  check(H5Dwrite(dataset, memType, memSpace.get(), fileSpace.get(), H5P_DEFAULT, data),
        "cannot write " + objectName(dataset) + " (disk full?)");
}

}  // namespace cw::io::h5
