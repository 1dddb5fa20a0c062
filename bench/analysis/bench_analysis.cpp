// Times Cellwright's kNN, neighbour graph, UMAP and Leiden on an embedding given as a raw
// file (int64 rows, int64 cols, then rows × cols float64, row-major), and writes what the
// Python side needs to compare: timings JSON, the UMAP embedding, the graph and kNN indices.
//   bench_analysis IN.bin OUT_DIR [--threads T] [--ef-construction E] [--ef E] [--knn-only 1]
#include <chrono>
#include <ctime>
#include <cstdio>
#include <fstream>
#include <iostream>

#include <nlohmann/json.hpp>

#include "cellwright/analysis/knn.h"
#include "cellwright/analysis/leiden.h"
#include "cellwright/analysis/neighbors.h"
#include "cellwright/analysis/umap.h"

using namespace cw;
using Clock = std::chrono::steady_clock;

namespace {

double seconds(Clock::time_point since) { return std::chrono::duration<double>(Clock::now() - since).count(); }
// CPU time of the whole process (all threads): comparable across runs on a busy machine.
double cpuSeconds() { return static_cast<double>(std::clock()) / CLOCKS_PER_SEC; }

DenseMatrix readMatrix(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot open " + path);
  DenseMatrix m;
  in.read(reinterpret_cast<char*>(&m.rows), sizeof m.rows);
  in.read(reinterpret_cast<char*>(&m.cols), sizeof m.cols);
  m.values.resize(m.rows * m.cols);
  in.read(reinterpret_cast<char*>(m.values.data()), static_cast<std::streamsize>(m.values.size() * sizeof(double)));
  if (!in) throw std::runtime_error("truncated matrix file " + path);
  return m;
}

template <typename T>
void writeRaw(const std::string& path, const std::vector<T>& values) {
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(values.data()), static_cast<std::streamsize>(values.size() * sizeof(T)));
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::cerr << "usage: bench_analysis IN.bin OUT_DIR [--threads T] [--ef-construction E] [--ef E] [--knn-only 1] [--epochs N] [--layout-threads T] [--seed S]\n";
    return 2;
  }
  const std::string outDir = argv[2];
  int threads = 0, efConstruction = 0, ef = 0, epochs = 0, layoutThreads = -1;
  uint64_t seed = 0;
  bool knnOnly = false;
  for (int a = 3; a + 1 < argc; a += 2) {
    const std::string flag = argv[a];
    if (flag == "--threads") threads = std::stoi(argv[a + 1]);
    else if (flag == "--ef-construction") efConstruction = std::stoi(argv[a + 1]);
    else if (flag == "--ef") ef = std::stoi(argv[a + 1]);
    else if (flag == "--knn-only") knnOnly = std::stoi(argv[a + 1]) != 0;
    else if (flag == "--epochs") epochs = std::stoi(argv[a + 1]);
    else if (flag == "--layout-threads") layoutThreads = std::stoi(argv[a + 1]);
    else if (flag == "--seed") seed = std::stoull(argv[a + 1]);
  }
  try {
    const DenseMatrix x = readMatrix(argv[1]);
    nlohmann::json timings;
    timings["cells"] = x.rows;
    timings["dims"] = x.cols;

    // Phases timed apart (wall and CPU): kNN, fuzzy simplicial set, spectral initialisation
    // (alone, for the profile; it runs again inside the layout) and the layout.
    analysis::NeighborsOptions nOptions;
    nOptions.method = analysis::KnnMethod::Hnsw;
    nOptions.threads = threads;
    analysis::KnnOptions kOptions;
    kOptions.k = nOptions.nNeighbors;
    kOptions.method = nOptions.method;
    kOptions.threads = threads;
    if (efConstruction > 0) kOptions.hnswEfConstruction = efConstruction;
    if (ef > 0) kOptions.hnswEf = ef;
    auto t0 = Clock::now();
    double c0 = cpuSeconds();
    analysis::KnnResult knn = analysis::findNeighbors(x, kOptions);
    timings["knn_s"] = seconds(t0);
    timings["knn_cpu_s"] = cpuSeconds() - c0;
    if (knnOnly) {
      writeRaw(outDir + "/cw_knn.i64", knn.indices);
      std::ofstream(outDir + "/cw_timings.json") << timings.dump(2) << "\n";
      std::cout << timings.dump(2) << "\n";
      return 0;
    }
    const auto neighbors = analysis::neighborsFromKnn(std::move(knn), nOptions);
    timings["neighbors_s"] = seconds(t0);  // kNN + fuzzy simplicial set
    timings["neighbors_cpu_s"] = cpuSeconds() - c0;

    t0 = Clock::now();
    c0 = cpuSeconds();
    analysis::spectralEmbedding(neighbors.connectivities, 2, 0);
    timings["spectral_init_s"] = seconds(t0);
    timings["spectral_init_cpu_s"] = cpuSeconds() - c0;

    analysis::UmapOptions uOptions;
    uOptions.threads = layoutThreads >= 0 ? layoutThreads : threads;
    uOptions.epochs = epochs;
    uOptions.seed = seed;
    t0 = Clock::now();
    c0 = cpuSeconds();
    const auto layout = analysis::umap(neighbors.connectivities, uOptions);
    timings["umap_layout_s"] = seconds(t0);  // spectral initialisation + SGD
    timings["umap_layout_cpu_s"] = cpuSeconds() - c0;
    timings["umap_total_cpu_s"] = timings["neighbors_cpu_s"].get<double>() + timings["umap_layout_cpu_s"].get<double>();
    timings["umap_total_s"] = timings["neighbors_s"].get<double>() + timings["umap_layout_s"].get<double>();
    timings["umap_epochs"] = layout.epochs;
    timings["umap_init"] = layout.initialization;

    if (analysis::igraphAvailable()) {
      t0 = Clock::now();
      c0 = cpuSeconds();
      const auto clusters = analysis::leiden(neighbors.connectivities);
      timings["leiden_s"] = seconds(t0);
      timings["leiden_cpu_s"] = cpuSeconds() - c0;
      timings["leiden_modularity"] = clusters.modularity;
      timings["leiden_clusters"] = clusters.nClusters;
    }

    std::vector<float> embedding(layout.embedding.values.begin(), layout.embedding.values.end());
    writeRaw(outDir + "/cw_umap.f32", embedding);
    writeRaw(outDir + "/cw_knn.i64", neighbors.knn.indices);
    const auto& g = neighbors.connectivities;
    writeRaw(outDir + "/cw_graph_indptr.i64", g.indptr);
    writeRaw(outDir + "/cw_graph_indices.i32", g.indices);
    writeRaw(outDir + "/cw_graph_data.f32", g.data);
    std::ofstream(outDir + "/cw_timings.json") << timings.dump(2) << "\n";
    std::cout << timings.dump(2) << "\n";
  } catch (const std::exception& e) {
    std::cerr << "bench_analysis: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
