// One process of the data-parallel test: joins the group from RANK/WORLD_SIZE/MASTER_*,
// trains the tiny classifier and saves its weights to argv[1] (rank-suffixed).
#include <iostream>

#include "cellwright/train/checkpoint.h"
#include "cellwright/train/distributed.h"
#include "ddp_common.h"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: ddp_worker OUT_PREFIX\n";
    return 2;
  }
  try {
    auto options = cw::train::distributedOptionsFromEnvironment();
    auto communicator = cw::train::connectProcessGroup(options, "cpu");
    auto weights = cw::train::testing::trainForDdpTest(communicator);
    torch::save(weights, std::string(argv[1]) + ".rank" + std::to_string(options.rank) + ".pt");
    communicator->barrier();
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "ddp_worker: " << e.what() << "\n";
    return 1;
  }
}
