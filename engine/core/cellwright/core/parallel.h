#pragma once
// A minimal parallel-for over index ranges with std::thread (the engine is built without
// OpenMP, so at::parallel_for runs serially in its code).
#include <algorithm>
#include <atomic>
#include <cstdint>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace cw::parallel {

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

// Calls body(begin, end) on chunks of [0, n) handed out one at a time to `threads` workers:
// no barrier between chunks, so a worker the (shared) machine deschedules holds no one up.
// afterChunk(done) runs on the calling thread after each of its chunks (cancel polling,
// progress); an exception there or in a body stops the others and is rethrown here.
inline void dynamicChunks(int64_t n, int threads, int64_t chunk, const std::function<void(int64_t, int64_t)>& body,
                          const std::function<void(int64_t)>& afterChunk) {
  std::atomic<int64_t> next{0}, done{0};
  std::atomic<bool> stop{false};
  std::exception_ptr error;
  std::mutex errorMutex;
  auto work = [&](bool caller) {
    try {
      while (!stop.load(std::memory_order_relaxed)) {
        const int64_t begin = next.fetch_add(chunk);
        if (begin >= n) break;
        const int64_t end = std::min(n, begin + chunk);
        body(begin, end);
        const int64_t finished = done.fetch_add(end - begin) + (end - begin);
        if (caller) afterChunk(finished);
      }
    } catch (...) {
      std::lock_guard<std::mutex> lock(errorMutex);
      if (!error) error = std::current_exception();
      stop = true;
    }
  };
  threads = std::max(1, std::min<int>(threads, static_cast<int>((n + chunk - 1) / std::max<int64_t>(chunk, 1))));
  std::vector<std::thread> pool;
  for (int t = 1; t < threads; ++t) pool.emplace_back(work, false);
  work(true);
  for (auto& th : pool) th.join();
  if (error) std::rethrow_exception(error);
}

}  // namespace cw::parallel
