// I/O benchmark driver: one measurement per process, so peak memory (ru_maxrss) is that of
// the measured step alone. bench/io/run_io_bench.sh runs it beside anndata and reports ratios.
//   bench_io simulate OUT.h5ad CELLS GENES [LIBRARY_PER_GENE]   make the input (not timed
//                                            against anything); a smaller library, fewer non-zeros
//   bench_io read FILE                       readDataset
//   bench_io write IN.h5ad OUT.h5ad          writeH5ad (the read before it is not timed)
//   bench_io backed FILE CELLS_PER_CHUNK     stream every cell, summing values
#include <sys/resource.h>

#include <chrono>
#include <iostream>
#include <string>

#include <nlohmann/json.hpp>

#include "cellwright/io/backed.h"
#include "cellwright/io/readers.h"
#include "cellwright/io/simulate.h"

namespace {

double peakRssMb() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return double(usage.ru_maxrss) / 1024.0;
}

double cpuSeconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) + 1e-6 * double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec);
}

double secondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

int main(int argc, char** argv) {
  try {
    const std::string mode = argc > 1 ? argv[1] : "";
    nlohmann::json out{{"tool", "cellwright"}, {"mode", mode}};
    double cpuStart = cpuSeconds();  // reset before the timed step of each mode
    double cpuEnd = 0;               // taken before results are freed (anndata's are never freed)
    if (mode == "simulate" && (argc == 5 || argc == 6)) {
      cw::io::SimulateOptions o;
      o.cells = std::stoll(argv[3]);
      o.genes = std::stoll(argv[4]);
      if (argc == 6) o.libraryPerGene = std::stod(argv[5]);
      o.seed = 1;
      const auto t = std::chrono::steady_clock::now();
      const auto r = cw::io::simulateToH5ad(o, argv[2]);
      out["seconds"] = secondsSince(t);
      out["nnz"] = r.nnz;
      out["nnz_per_cell"] = double(r.nnz) / double(r.cells);
    } else if (mode == "read" && argc == 3) {
      const auto t = std::chrono::steady_clock::now();
      const auto r = cw::io::readDataset(argv[2]);
      out["seconds"] = secondsSince(t);
      cpuEnd = cpuSeconds();
      out["nnz"] = r.dataset.X.nnz();
    } else if (mode == "write" && argc == 4) {
      const auto r = cw::io::readDataset(argv[2]);
      cpuStart = cpuSeconds();
      const auto t = std::chrono::steady_clock::now();
      cw::io::writeH5ad(r.dataset, argv[3]);
      out["seconds"] = secondsSince(t);
      cpuEnd = cpuSeconds();
    } else if (mode == "backed" && argc == 4) {
      const auto t = std::chrono::steady_clock::now();
      cw::io::BackedDataset backed(argv[2]);
      double total = 0;
      backed.forEachChunk(std::stoll(argv[3]), [&](int64_t, const cw::CsrMatrix& rows) {
        for (float v : rows.data) total += v;
      });
      out["seconds"] = secondsSince(t);
      out["sum"] = total;
    } else {
      std::cerr << "usage: bench_io simulate OUT CELLS GENES [LIBRARY_PER_GENE] | read FILE | write IN OUT | backed FILE CHUNK\n";
      return 2;
    }
    out["cpu_seconds"] = (cpuEnd > 0 ? cpuEnd : cpuSeconds()) - cpuStart;  // user + system: less sensitive to a busy machine
    out["peak_rss_mb"] = peakRssMb();
    std::cout << out.dump() << "\n";
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "bench_io: " << e.what() << "\n";
    return 1;
  }
}
