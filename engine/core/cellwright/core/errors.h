#pragma once
// Exceptions the engine throws. Their what() is a one-line message for a biologist:
// what went wrong with which input, and what to do about it. Front ends never let them
// cross an event loop: the CLI prints them, the GUI worker turns them into `failed`.
#include <stdexcept>
#include <string>

namespace cw {

// Bad input or an impossible request (missing file, corrupt matrix, unknown column).
class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& message) : std::runtime_error(message) {}
};

// A feature whose backend was left out of this build (e.g. Leiden without igraph).
class NotAvailable : public Error {
 public:
  explicit NotAvailable(const std::string& feature)
      : Error(feature + " is not available in this build") {}
};

// Thrown at a poll point after Feedback::cancel().
class Canceled : public std::runtime_error {
 public:
  Canceled() : std::runtime_error("canceled") {}
};

// Builds "context: message" for errors rethrown with more context.
std::string withContext(const std::string& context, const std::string& message);

}  // namespace cw
