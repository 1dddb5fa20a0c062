#pragma once
// Entry point of the desktop application (app/cellwright_gui_main.cpp stays thin).
//   cellwright [--open FILE] [--run RUN] [--view table|umap|paga|confusion|roc]
//              [--color-by COL] [--screenshot OUT.png] [--view-only]
// With --screenshot it loads, shows the view, writes the image and exits 0 (non-zero with a
// message on failure).
namespace cw::ui {
int runApplication(int argc, char** argv);
}
