#include "line_reader.h"

#include <cstring>

#include "cellwright/core/errors.h"

namespace cw::io {

LineReader::LineReader(const std::filesystem::path& path) : path_(path), buffer_(1 << 20) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) throw Error("file not found: '" + path.string() + "'");
  file_ = gzopen(path.c_str(), "rb");
  if (!file_) throw Error("cannot open '" + path.string() + "'");
  gzbuffer(file_, 1 << 18);
}

LineReader::~LineReader() {
  if (file_) gzclose(file_);
}

bool LineReader::refill() {
  if (eof_) return false;
  // Keep the unfinished line at the front; grow when one line exceeds the buffer.
  const size_t pending = end_ - begin_;
  if (begin_ > 0) std::memmove(buffer_.data(), buffer_.data() + begin_, pending);
  begin_ = 0;
  end_ = pending;
  if (end_ == buffer_.size()) buffer_.resize(buffer_.size() * 2);
  const int n = gzread(file_, buffer_.data() + end_, static_cast<unsigned>(buffer_.size() - end_));
  if (n < 0) {
    int code = 0;
    const char* why = gzerror(file_, &code);
    throw Error("cannot read '" + path_.string() + "': " + (why ? why : "read error") + " (corrupt or truncated?)");
  }
  if (n == 0) {
    eof_ = true;
    return false;
  }
  end_ += static_cast<size_t>(n);
  return true;
}

bool LineReader::next(std::string& line) {
  while (true) {
    const char* start = buffer_.data() + begin_;
    const void* nl = std::memchr(start, '\n', end_ - begin_);
    if (nl) {
      size_t len = static_cast<const char*>(nl) - start;
      line.assign(start, len && start[len - 1] == '\r' ? len - 1 : len);
      begin_ += len + 1;
      ++lineNumber_;
      return true;
    }
    if (!refill()) {
      if (begin_ == end_) return false;
      size_t len = end_ - begin_;
      line.assign(buffer_.data() + begin_, len && buffer_[begin_ + len - 1] == '\r' ? len - 1 : len);
      begin_ = end_;
      ++lineNumber_;
      return true;
    }
  }
}

std::vector<std::string_view> splitFields(std::string_view line, char separator) {
  std::vector<std::string_view> fields;
  auto unquote = [](std::string_view f) {
    if (f.size() >= 2 && f.front() == '"' && f.back() == '"') return f.substr(1, f.size() - 2);
    return f;
  };
  if (separator == ' ') {
    size_t i = 0;
    while (i < line.size()) {
      while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
      if (i >= line.size()) break;
      size_t j = i;
      while (j < line.size() && line[j] != ' ' && line[j] != '\t') ++j;
      fields.push_back(unquote(line.substr(i, j - i)));
      i = j;
    }
    return fields;
  }
  size_t start = 0;
  while (true) {
    const size_t pos = line.find(separator, start);
    fields.push_back(unquote(line.substr(start, pos == std::string_view::npos ? std::string_view::npos : pos - start)));
    if (pos == std::string_view::npos) break;
    start = pos + 1;
  }
  return fields;
}

}  // namespace cw::io
