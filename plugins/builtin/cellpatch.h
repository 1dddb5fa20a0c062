#pragma once
// CellPatch configuration (defaults = the paper's `paper` preset).
#include <cstdint>
#include <string>

namespace cw::plugins {

struct CellPatchConfig {
  int64_t dim = 32;
  int64_t patches = 64;
  int64_t heads = 2;
  int64_t ff_hidden = 64;
  int64_t cross_blocks = 1;
  int64_t self_blocks = 2;
  int64_t projection = 10;
  int64_t decoder_self_blocks = 1;
  double dropout = 0.1;
  std::string count_encoding = "linear";
  int64_t count_bins = 5;
  int64_t head_hidden1 = 512;
  int64_t head_hidden2 = 100;
  double head_dropout = 0.1;
  std::string head_pooling = "flatten";
  double patch_init_std = 0.02;
  double gene_dropout = 0.0;
  double gene_init_std = 1.0;
  std::string gene_init = "random";
  int64_t max_genes = 3000;
  int64_t n_hvg = 0;
  double held_out_fraction = 0.3;
  double zero_target_ratio = 0.5;
  int64_t max_decoder_genes = 1000;

  template <class Visit>
  void visitFields(Visit&& v) {
    v("dim", dim);
    v("patches", patches);
    v("heads", heads);
    v("ff_hidden", ff_hidden);
    v("cross_blocks", cross_blocks);
    v("self_blocks", self_blocks);
    v("projection", projection);
    v("decoder_self_blocks", decoder_self_blocks);
    v("dropout", dropout);
    v("count_encoding", count_encoding);
    v("count_bins", count_bins);
    v("head_hidden1", head_hidden1);
    v("head_hidden2", head_hidden2);
    v("head_dropout", head_dropout);
    v("head_pooling", head_pooling);
    v("patch_init_std", patch_init_std);
    v("gene_dropout", gene_dropout);
    v("gene_init_std", gene_init_std);
    v("gene_init", gene_init);
    v("max_genes", max_genes);
    v("n_hvg", n_hvg);
    v("held_out_fraction", held_out_fraction);
    v("zero_target_ratio", zero_target_ratio);
    v("max_decoder_genes", max_decoder_genes);
  }
};

}  // namespace cw::plugins
