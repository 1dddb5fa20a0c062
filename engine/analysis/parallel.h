#pragma once
// A minimal parallel-for over index ranges with std::thread (the engine has no OpenMP).
#include <algorithm>
#include <cstdint>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace cw::analysis::detail {

inline int defaultThreads(int requested) {
  if (requested > 0) return requested;
  const unsigned hw = std::thread::hardware_concurrency();
  return hw ? static_cast<int>(hw) : 1;
}

// Calls body(begin, end, threadIndex) on `threads` contiguous chunks of [0, n).
// Exceptions from workers are rethrown on the calling thread.
inline void parallelChunks(int64_t n, int threads, const std::function<void(int64_t, int64_t, int)>& body) {
  threads = std::max(1, std::min<int>(threads, static_cast<int>(std::max<int64_t>(n, 1))));
  if (threads == 1) {
    body(0, n, 0);
    return;
  }
  std::vector<std::thread> pool;
  std::exception_ptr error;
  std::mutex errorMutex;
  for (int t = 0; t < threads; ++t) {
    const int64_t begin = n * t / threads, end = n * (t + 1) / threads;
    pool.emplace_back([&, begin, end, t] {
      try {
        body(begin, end, t);
      } catch (...) {
        std::lock_guard<std::mutex> lock(errorMutex);
        if (!error) error = std::current_exception();
      }
    });
  }
  for (auto& th : pool) th.join();
  if (error) std::rethrow_exception(error);
}

}  // namespace cw::analysis::detail
