#include "cellwright/cli/cli.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <exception>
#include <iostream>

#include "cellwright/compute/device.h"
#include "cellwright/core/errors.h"
#include "cellwright/core/version.h"

namespace cw::cli {

static std::vector<Command>& registry() {
  static std::vector<Command> commands;
  return commands;
}

bool registerCommand(Command command) {
  registry().push_back(std::move(command));
  return true;
}

const std::vector<Command>& commands() {
  auto& list = registry();
  std::sort(list.begin(), list.end(), [](const Command& a, const Command& b) { return a.name < b.name; });
  return list;
}

bool stderrIsTerminal() { return ::isatty(STDERR_FILENO) == 1; }

static void printOverview(std::ostream& out) {
  out << "cellwright-cli " << kVersion << ": single-cell foundation models, headless\n\n"
      << "usage: cellwright-cli <command> [options]\n       cellwright-cli --version\n\ncommands:\n";
  for (const auto& c : commands()) {
    out << "  " << c.name;
    for (size_t i = c.name.size(); i < 12; ++i) out << ' ';
    out << c.summary << "\n";
  }
  out << "\n'cellwright-cli <command> --help' shows a command's options.\n";
}

static void printCommandHelp(const Command& c, std::ostream& out) {
  out << "usage: cellwright-cli " << c.name << " " << c.usage << "\n\n" << c.summary << "\n";
  if (!c.options.empty()) out << "\noptions:\n";
  for (const auto& o : c.options) {
    std::string left = "  " + o.name + (o.takesValue ? " VALUE" : "");
    out << left;
    for (size_t i = left.size(); i < 30; ++i) out << ' ';
    out << o.help;
    if (!o.defaultValue.empty() && o.takesValue) out << " (default " << o.defaultValue << ")";
    out << "\n";
  }
}

int runCli(int argc, char** argv) {
  std::vector<std::string> words(argv + 1, argv + argc);
  try {
    if (words.empty() || words[0] == "--help" || words[0] == "-h" || words[0] == "help") {
      printOverview(words.empty() ? std::cerr : std::cout);
      return words.empty() ? 2 : 0;
    }
    if (words[0] == "--version") {
      std::cout << "cellwright " << kVersion << "\n";
      return 0;
    }
    const auto& all = commands();
    auto it = std::find_if(all.begin(), all.end(), [&](const Command& c) { return c.name == words[0]; });
    if (it == all.end()) throw UsageError("unknown command '" + words[0] + "' (see cellwright-cli --help)");
    std::vector<std::string> rest(words.begin() + 1, words.end());
    if (std::find(rest.begin(), rest.end(), "--help") != rest.end()) {
      printCommandHelp(*it, std::cout);
      return 0;
    }
    try {
      configureThreads(0);  // all cores unless a command sets otherwise
      Args args(rest, it->options, it->minPositionals, it->maxPositionals);
      return it->run(args);
    } catch (const UsageError& e) {
      std::cerr << "cellwright-cli " << it->name << ": " << e.what() << " (usage: cellwright-cli " << it->name << " "
                << it->usage << ")\n";
      return 2;
    }
  } catch (const UsageError& e) {
    std::cerr << "cellwright-cli: " << e.what() << "\n";
    return 2;
  } catch (const Canceled&) {
    std::cerr << "cellwright-cli: canceled\n";
    return 1;
  } catch (const std::exception& e) {
    std::string message = e.what();
    // Torch errors carry a C++ backtrace after the first line; a biologist needs the first.
    if (auto nl = message.find('\n'); nl != std::string::npos) message = message.substr(0, nl);
    std::cerr << "cellwright-cli: error: " << message << "\n";
    return 1;
  } catch (...) {
    std::cerr << "cellwright-cli: error: unexpected failure\n";
    return 1;
  }
}

}  // namespace cw::cli
