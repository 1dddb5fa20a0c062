// Times the UMAP layout alone (spectral initialisation + SGD) on the graph that bench_analysis
// wrote to DIR (cw_graph_*), for profiling the layout without recomputing the neighbours.
//   bench_umap_layout DIR [--threads T] [--repeat R]
#include <chrono>
#include <ctime>
#include <fstream>
#include <iostream>

#include "cellwright/analysis/umap.h"

using namespace cw;
using Clock = std::chrono::steady_clock;

namespace {

template <typename T>
std::vector<T> readRaw(const std::string& path) {
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  if (!in) throw std::runtime_error("cannot open " + path);
  std::vector<T> values(static_cast<size_t>(in.tellg()) / sizeof(T));
  in.seekg(0);
  in.read(reinterpret_cast<char*>(values.data()), static_cast<std::streamsize>(values.size() * sizeof(T)));
  return values;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::cerr << "usage: bench_umap_layout DIR [--threads T] [--repeat R]\n";
    return 2;
  }
  const std::string dir = argv[1];
  int threads = 0, repeat = 1;
  for (int a = 2; a + 1 < argc; a += 2) {
    const std::string flag = argv[a];
    if (flag == "--threads") threads = std::stoi(argv[a + 1]);
    else if (flag == "--repeat") repeat = std::stoi(argv[a + 1]);
  }
  try {
    CsrMatrix g;
    g.indptr = readRaw<int64_t>(dir + "/cw_graph_indptr.i64");
    g.indices = readRaw<int32_t>(dir + "/cw_graph_indices.i32");
    g.data = readRaw<float>(dir + "/cw_graph_data.f32");
    g.rows = g.cols = static_cast<int64_t>(g.indptr.size()) - 1;
    analysis::UmapOptions options;
    options.threads = threads;
    for (int r = 0; r < repeat; ++r) {
      const auto t0 = Clock::now();
      const std::clock_t c0 = std::clock();
      const auto result = analysis::umap(g, options);
      const double wall = std::chrono::duration<double>(Clock::now() - t0).count();
      const double cpu = static_cast<double>(std::clock() - c0) / CLOCKS_PER_SEC;
      std::cout << "layout wall " << wall << " s, cpu " << cpu << " s (" << result.initialization << ")\n";
      if (r + 1 == repeat) {
        std::vector<float> embedding(result.embedding.values.begin(), result.embedding.values.end());
        std::ofstream(dir + "/cw_umap.f32", std::ios::binary)
            .write(reinterpret_cast<const char*>(embedding.data()), static_cast<std::streamsize>(embedding.size() * 4));
      }
    }
  } catch (const std::exception& e) {
    std::cerr << "bench_umap_layout: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
