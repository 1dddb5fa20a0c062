#pragma once
// The in-memory dataset model: an AnnData equivalent. Counts are CSR with 32-bit column
// indices and float32 values (8 bytes per stored entry); obs/var are column tables.
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace cw {

// Compressed sparse rows (cells × genes). Values are float32: exact for counts < 2^24.
struct CsrMatrix {
  int64_t rows = 0;
  int64_t cols = 0;
  std::vector<int64_t> indptr{0};  // rows + 1 entries
  std::vector<int32_t> indices;    // column of each stored entry, sorted within a row
  std::vector<float> data;

  int64_t nnz() const { return static_cast<int64_t>(data.size()); }
  // Throws cw::Error when the structure is inconsistent (used before trusting a file).
  void validate(const std::string& what) const;
  // New matrix holding the given rows, in that order.
  CsrMatrix selectRows(const std::vector<int64_t>& rowIndices) const;
  // New matrix holding the given columns, in that order (others dropped).
  CsrMatrix selectColumns(const std::vector<int64_t>& colIndices) const;
};

// Row-major dense matrix (obsm / varm entries such as X_pca, X_umap).
struct DenseMatrix {
  int64_t rows = 0;
  int64_t cols = 0;
  std::vector<double> values;  // rows * cols
  double& at(int64_t r, int64_t c) { return values[r * cols + c]; }
  double at(int64_t r, int64_t c) const { return values[r * cols + c]; }
};

// One obs/var column. Exactly one payload vector is filled, by `kind`.
struct Column {
  enum class Kind { Categorical, Numeric, String, Bool };
  Kind kind = Kind::Numeric;
  std::vector<int32_t> codes;            // Categorical: index into categories, -1 = missing
  std::vector<std::string> categories;   // Categorical
  bool ordered = false;                  // Categorical
  std::vector<double> numbers;           // Numeric (NaN = missing)
  std::vector<std::string> strings;      // String
  std::vector<int8_t> bools;             // Bool: 0, 1, or -1 = missing (nullable-boolean)
  std::string dtype;                     // numpy dtype on disk, kept for writing back ("int64", "float32")

  size_t size() const;
  static Column categorical(std::vector<int32_t> codes, std::vector<std::string> categories);
  static Column numeric(std::vector<double> numbers, std::string dtype = "float64");
  static Column text(std::vector<std::string> strings);
  // Value of row i as text ("" for missing); handy for tables and CSV output.
  std::string valueAsString(size_t i) const;
  Column selectRows(const std::vector<int64_t>& rowIndices) const;
};

// A dataframe: an index of names plus ordered named columns.
struct DataFrame {
  std::vector<std::string> index;
  std::vector<std::string> columnOrder;
  std::map<std::string, Column> columns;

  size_t size() const { return index.size(); }
  bool has(const std::string& name) const { return columns.count(name) != 0; }
  const Column& at(const std::string& name) const;  // throws cw::Error naming the missing column
  void set(const std::string& name, Column column);  // appends to columnOrder when new
  DataFrame selectRows(const std::vector<int64_t>& rowIndices) const;
};

// Unstructured metadata (anndata's uns): a nested tree of scalars, arrays and matrices.
struct UnsNode;
using UnsDict = std::map<std::string, UnsNode>;
struct UnsNode {
  std::variant<std::monostate, double, int64_t, bool, std::string,
               std::vector<double>, std::vector<int64_t>, std::vector<std::string>,
               DenseMatrix, CsrMatrix, UnsDict>
      value;
  // Dense numeric arrays of more than one dimension keep their shape (DenseMatrix is 2-D).
  bool isDict() const { return std::holds_alternative<UnsDict>(value); }
  UnsDict& dict();
  const UnsDict& dict() const;
};

// Which stored matrix holds raw counts.
enum class CountsSource { None, X, LayersCounts, RawX };
const char* countsSourceName(CountsSource source);  // "X", "layers/counts", "raw/X", or "" for None

struct Dataset {
  CsrMatrix X;
  std::string xDtype = "float32";        // numpy dtype of X on disk
  DataFrame obs;                          // cells
  DataFrame var;                          // genes
  std::map<std::string, DenseMatrix> obsm;
  std::map<std::string, DenseMatrix> varm;
  std::map<std::string, CsrMatrix> obsp;
  std::map<std::string, CsrMatrix> layers;
  struct Raw {
    CsrMatrix X;
    DataFrame var;
  };
  std::optional<Raw> raw;
  UnsDict uns;

  int64_t nObs() const { return X.rows; }
  int64_t nVars() const { return X.cols; }

  // The matrix that holds raw counts, as decided by detectCountsSource().
  CountsSource countsSource = CountsSource::None;
  const CsrMatrix* counts() const;

  // Cells subset (all per-cell tables follow). Genes stay.
  Dataset selectObs(const std::vector<int64_t>& rowIndices) const;
};

// Decides which matrix holds raw counts: layers['counts'] if present and integral, else X if
// integral and non-negative, else raw/X if integral; None otherwise.
CountsSource detectCountsSource(const Dataset& dataset);

// True when every stored value is a non-negative integer.
bool looksLikeCounts(const CsrMatrix& matrix);

}  // namespace cw
