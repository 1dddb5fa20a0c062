// `doctor [--json]`: what this build and machine can do.
#include <iostream>

#include "cellwright/cli/cli.h"
#include "cellwright/compute/device.h"

namespace cw::cli {
namespace {

Command makeDoctorCommand() {
  Command c;
  c.name = "doctor";
  c.summary = "report what this build can do (torch, CUDA devices, backends)";
  c.usage = "[--json]";
  c.options = {{"--json", false, "print JSON (the contract's keys)"}};
  c.run = [](const Args& args) {
    const auto caps = probeCapabilities(CELLWRIGHT_GUI_BUILT);
    const auto json = capabilitiesToJson(caps);
    if (args.flag("--json")) {
      std::cout << json.dump(2) << "\n";
      return 0;
    }
    std::cout << "cellwright " << caps.version << "\n"
              << "torch " << caps.torchVersion << ", " << caps.threads << " CPU threads\n"
              << "CUDA: " << (caps.cudaAvailable ? "available" : "not available") << "\n";
    for (const auto& d : caps.devices) std::cout << "  " << d.name << " (" << d.memoryGib << " GiB)\n";
    std::cout << "GUI: " << (caps.gui ? "yes" : "no") << "\nbackends: " << json["backends"].dump() << "\n";
    for (const auto& s : caps.smokeTests) std::cout << "tensor op on " << s << "\n";
    return 0;
  };
  return c;
}

}  // namespace
CELLWRIGHT_REGISTER_COMMAND(makeDoctorCommand);
}  // namespace cw::cli
