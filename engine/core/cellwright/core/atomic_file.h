#pragma once
// Output files are written atomically: into a temporary sibling, then renamed over the
// target, so a crash or a cancel never leaves a half-written result behind.
#include <filesystem>
#include <functional>
#include <string>

namespace cw {

// A sibling path no other writer uses: "<target>.tmp<pid>-<counter>-<clock>". (Not
// std::random_device: with a libstdc++ older than the headers it calls a null pointer.)
std::filesystem::path temporarySibling(const std::filesystem::path& target);

// Calls `write(tmpPath)` and renames tmpPath to `target` on success; removes tmpPath and
// rethrows on failure.
void writeAtomically(const std::filesystem::path& target,
                     const std::function<void(const std::filesystem::path& tmpPath)>& write);

// Writes a whole text file atomically.
void writeTextAtomically(const std::filesystem::path& target, const std::string& text);

std::string readTextFile(const std::filesystem::path& path);

}  // namespace cw
