#include "cellwright/io/hdf5_lock.h"

namespace cw {
std::recursive_mutex& hdf5Mutex() {
  static std::recursive_mutex mutex;
  return mutex;
}
}  // namespace cw
