#pragma once
// Every HDF5 call in Cellwright runs under this one mutex: Debian's libhdf5 is built
// without thread safety, and the GUI's reader, the loader's prefetch threads and the
// writer may otherwise call into it at once. Recursive so helpers can nest.
#include <mutex>

namespace cw {
std::recursive_mutex& hdf5Mutex();
using Hdf5Lock = std::lock_guard<std::recursive_mutex>;
}  // namespace cw
