#pragma once
// Reads text files line by line through zlib, so plain and gzip-compressed files (.gz) are
// read by the same code. Buffered: one gzread per megabyte, not one call per line.
#include <zlib.h>

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace cw::io {

class LineReader {
 public:
  explicit LineReader(const std::filesystem::path& path);
  ~LineReader();
  LineReader(const LineReader&) = delete;
  LineReader& operator=(const LineReader&) = delete;

  // Next line without its end-of-line characters; false at the end of the file.
  bool next(std::string& line);
  int64_t lineNumber() const { return lineNumber_; }
  const std::filesystem::path& path() const { return path_; }

 private:
  bool refill();
  std::filesystem::path path_;
  gzFile file_ = nullptr;
  std::vector<char> buffer_;
  size_t begin_ = 0, end_ = 0;
  bool eof_ = false;
  int64_t lineNumber_ = 0;
};

// Splits on `separator` (a tab, a comma, or ' ' for any run of blanks); strips one pair of
// surrounding double quotes from each field.
std::vector<std::string_view> splitFields(std::string_view line, char separator);

}  // namespace cw::io
