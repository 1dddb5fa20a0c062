// cellwright-cli: the headless engine. All logic lives in cellwright::cli.
#include "cellwright/cli/cli.h"

int main(int argc, char** argv) { return cw::cli::runCli(argc, argv); }
