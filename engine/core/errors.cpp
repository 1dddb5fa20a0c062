#include "cellwright/core/errors.h"

namespace cw {

std::string withContext(const std::string& context, const std::string& message) {
  if (context.empty()) return message;
  return context + ": " + message;
}

}  // namespace cw
