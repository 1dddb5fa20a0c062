// libFuzzer harness for Cellwright's readers. One binary, the reader picked at build time:
//   FUZZ_FORMAT=1 h5ad, 2 10x .h5, 3 Matrix Market folder (the input is matrix.mtx beside
//   fixed barcodes/genes files), 4 CSV.
// Any cw::Error is a clean refusal; a crash, a sanitizer report or another exception is a bug.
#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>

#include "cellwright/core/errors.h"
#include "cellwright/io/readers.h"

namespace fs = std::filesystem;

namespace {

const fs::path& workDir() {
  static const fs::path dir = [] {
    fs::path d = fs::temp_directory_path() / ("cw_fuzz_" + std::to_string(::getpid()));
    fs::create_directories(d);
    std::ofstream barcodes(d / "barcodes.tsv");
    for (int i = 0; i < 40; ++i) barcodes << "CELL" << i << "-1\n";
    std::ofstream genes(d / "genes.tsv");
    for (int i = 0; i < 50; ++i) genes << "ENSG" << i << "\tGENE" << i << "\n";
    return d;
  }();
  return dir;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
#if FUZZ_FORMAT == 1
  const fs::path file = workDir() / "input.h5ad";
#elif FUZZ_FORMAT == 2
  const fs::path file = workDir() / "input.h5";
#elif FUZZ_FORMAT == 3
  const fs::path file = workDir() / "matrix.mtx";
#else
  const fs::path file = workDir() / "input.csv";
#endif
  {
    std::ofstream out(file, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
  }
  try {
#if FUZZ_FORMAT == 3
    cw::io::readDataset(workDir());
#else
    cw::io::readDataset(file);
#endif
  } catch (const cw::Error&) {
  }
  return 0;
}
