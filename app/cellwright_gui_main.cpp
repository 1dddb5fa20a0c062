// cellwright: the desktop application. All logic lives in cellwright::ui.
#include "cellwright/ui/application.h"

int main(int argc, char** argv) { return cw::ui::runApplication(argc, argv); }
