#pragma once
// A thin, private layer over HDF5's serial C API: RAII handles, whole-dataset reads with
// type conversion, strings and attributes. Every function takes cw::hdf5Mutex() itself
// (recursive), and every failure becomes a one-line cw::Error naming the object.
// Internal to engine_io: HDF5 stays a PRIVATE dependency.
#include <hdf5.h>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace cw::io::h5 {

// Owns one HDF5 identifier and closes it with the matching H5*close.
class Handle {
 public:
  Handle() = default;
  explicit Handle(hid_t id) : id_(id) {}
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;
  Handle(Handle&& other) noexcept : id_(other.id_) { other.id_ = H5I_INVALID_HID; }
  Handle& operator=(Handle&& other) noexcept;
  ~Handle();
  hid_t get() const { return id_; }
  bool valid() const { return id_ >= 0; }
  void reset() noexcept;  // closes now

 private:
  hid_t id_ = H5I_INVALID_HID;
};

// What a dataset or attribute stores, in numpy's terms.
struct TypeInfo {
  enum class Class { Integer, Unsigned, Float, Bool, String, Other } cls = Class::Other;
  size_t size = 0;        // bytes per element (strings: fixed length, 0 when variable)
  bool variableString = false;
  std::string numpyName() const;  // "float32", "int64", "uint8", "bool", "str", "other"
};

// Silences HDF5's own error stack printing (we report our own messages). Idempotent.
void silenceLibraryErrors();

Handle openFile(const std::filesystem::path& path, bool readWrite = false);
Handle createFile(const std::filesystem::path& path);  // truncates
bool exists(hid_t location, const std::string& path);  // every intermediate group checked
bool isGroup(hid_t location, const std::string& path);
bool isDataset(hid_t location, const std::string& path);
Handle openGroup(hid_t location, const std::string& path);
Handle openDataset(hid_t location, const std::string& path);
// With a larger chunk cache, for repeated partial reads of compressed datasets.
Handle openDatasetCached(hid_t location, const std::string& path, size_t cacheBytes);
std::vector<std::string> childNames(hid_t group);  // in creation/name order as HDF5 lists them

std::string objectName(hid_t object);  // "/obs/cell_type" for messages
TypeInfo datasetType(hid_t dataset);
std::vector<int64_t> datasetShape(hid_t dataset);  // empty for scalars

// Whole-dataset reads converting to the requested type; throws on a non-numeric dataset.
std::vector<double> readDoubles(hid_t dataset);
// With `visit`, each piece is passed to it (on worker threads) as soon as it is read. A
// `buffer` already holding as many elements as the dataset is filled instead of a new one.
std::vector<float> readFloats(hid_t dataset, const std::function<void(const void*, int64_t, int64_t)>& visit = {},
                              std::vector<float> buffer = {});
std::vector<int64_t> readInt64(hid_t dataset);
std::vector<int32_t> readInt32(hid_t dataset, const std::function<void(const void*, int64_t, int64_t)>& visit = {},
                               std::vector<int32_t> buffer = {});
std::vector<int8_t> readBools(hid_t dataset);  // numpy bool (h5py enum) or any integer
std::vector<std::string> readStrings(hid_t dataset);  // variable or fixed length, scalar or 1-D
// Refuses (cw::Error) a variable-length string dataset whose heap references are damaged,
// before libhdf5 reads them (it would crash). Cheap: reads the references and their heaps.
void checkVariableStrings(hid_t dataset, int64_t n);
// The same for the variable-length string attribute `name` of `object` (libhdf5 hangs or
// crashes reading a damaged one); found by walking the object header ourselves.
void checkVariableStringAttribute(hid_t object, const std::string& name);
// Refuses a group whose old-style table of names (local heap) points outside the file, before
// libhdf5 looks a name up in it (it would loop or crash).
void checkGroupNameTable(hid_t group);
// Refuses an object whose attribute messages claim more bytes than they hold (libhdf5 copies
// past them while looking an attribute up).
void checkAttributeMessages(hid_t object);
// A hyperslab [start, start+count) of a 1-D numeric dataset.
std::vector<float> readFloatsSlab(hid_t dataset, int64_t start, int64_t count);
std::vector<int64_t> readInt64Slab(hid_t dataset, int64_t start, int64_t count);
std::vector<int32_t> readInt32Slab(hid_t dataset, int64_t start, int64_t count);
// Rows [start, start+count) of a 2-D dataset, row-major.
std::vector<float> readFloatRows(hid_t dataset, int64_t start, int64_t count);

// Compound (record) datasets: anndata < 0.7 stored obs/var tables this way.
struct CompoundMember {
  std::string name;
  TypeInfo type;  // Class::Other for nested or unsupported member types
};
std::vector<CompoundMember> compoundMembers(hid_t dataset);  // empty when not compound
// One field of a 1-D compound dataset: numbers (integers, floats, numpy bools) or fixed-width
// text; throws cw::Error for other member types.
std::vector<double> readCompoundNumbers(hid_t dataset, const std::string& member);
std::vector<std::string> readCompoundStrings(hid_t dataset, const std::string& member);

bool hasAttribute(hid_t object, const std::string& name);
std::optional<std::string> readStringAttribute(hid_t object, const std::string& name);
std::vector<std::string> readStringArrayAttribute(hid_t object, const std::string& name);  // [] if not strings
std::vector<int64_t> readIntArrayAttribute(hid_t object, const std::string& name);
std::optional<bool> readBoolAttribute(hid_t object, const std::string& name);

// Writing.
Handle createGroup(hid_t location, const std::string& name);
void writeStringAttribute(hid_t object, const std::string& name, const std::string& value);
void writeStringArrayAttribute(hid_t object, const std::string& name, const std::vector<std::string>& values);
void writeInt64ArrayAttribute(hid_t object, const std::string& name, const std::vector<int64_t>& values);
void writeBoolAttribute(hid_t object, const std::string& name, bool value);
void writeEmptyFloatArrayAttribute(hid_t object, const std::string& name);

struct WriteLayout {
  bool compress = false;
  int64_t chunkElements = 1 << 16;  // used only when compressing
};
// 1-D (dims.size()==1) or n-D datasets of a native type; `memType` is H5T_NATIVE_*.
Handle writeArray(hid_t location, const std::string& name, hid_t memType, const void* data,
                  const std::vector<int64_t>& dims, const WriteLayout& layout = {});
Handle writeStrings(hid_t location, const std::string& name, const std::vector<std::string>& values,
                    const WriteLayout& layout = {});
Handle writeScalarString(hid_t location, const std::string& name, const std::string& value);
Handle writeScalarBool(hid_t location, const std::string& name, bool value);
Handle writeBools(hid_t location, const std::string& name, const std::vector<int8_t>& values,
                  const WriteLayout& layout = {});
// An extendible 1-D dataset for streaming writes.
Handle createExtendible(hid_t location, const std::string& name, hid_t memType, int64_t chunkElements,
                        bool compress);
void appendToExtendible(hid_t dataset, hid_t memType, const void* data, int64_t count);

}  // namespace cw::io::h5
