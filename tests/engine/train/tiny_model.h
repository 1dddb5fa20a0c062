#pragma once
// A tiny classifier and a synthetic, linearly separable data set for trainer tests.
#include <torch/torch.h>

#include "cellwright/train/trainer.h"

namespace cw::train::testing {

struct TinyNetImpl : torch::nn::Module {
  explicit TinyNetImpl(double dropoutRate = 0.3) : rate(dropoutRate) {
    hidden = register_module("hidden", torch::nn::Linear(4, 16));
    dropout = register_module("dropout", torch::nn::Dropout(dropoutRate));
    out = register_module("out", torch::nn::Linear(16, 3));
  }
  torch::Tensor forward(const torch::Tensor& x) {
    auto h = torch::relu(hidden(x));
    return out(rate > 0 ? dropout(h) : h);
  }
  double rate;
  torch::nn::Linear hidden{nullptr}, out{nullptr};
  torch::nn::Dropout dropout{nullptr};
};
TORCH_MODULE(TinyNet);

class TinyClassifier : public TrainableModel {
 public:
  explicit TinyClassifier(uint64_t initSeed, double dropoutRate = 0.3) {
    torch::manual_seed(initSeed);
    net = TinyNet(dropoutRate);
  }
  torch::nn::Module& module() override { return *net; }
  StepOutput forward(const tokenize::TokenBatch& batch) override { return {torch::Tensor(), net->forward(batch.dense)}; }
  TinyNet net{nullptr};
};

// `n` cells with 4 features; the label is the argmax of three fixed directions.
struct SyntheticData {
  torch::Tensor features, labels;
  explicit SyntheticData(int64_t n) {
    auto gen = at::detail::createCPUGenerator(12345);
    features = torch::randn({n, 4}, gen);
    auto directions = torch::tensor({{1.0f, 0.0f, 0.5f, 0.0f}, {-0.5f, 1.0f, 0.0f, 0.0f}, {0.0f, -1.0f, -0.5f, 0.3f}});
    labels = features.matmul(directions.t()).argmax(1);
  }
  Collate collate() const {
    return [f = features, l = labels](const std::vector<int64_t>& cells, uint64_t) {
      auto idx = torch::tensor(cells, torch::kLong);
      tokenize::TokenBatch b;
      b.dense = f.index_select(0, idx);
      b.labels = l.index_select(0, idx);
      b.cellIndices = cells;
      return b;
    };
  }
  TrainingData split(int64_t nTrain) const {
    TrainingData d;
    for (int64_t i = 0; i < features.size(0); ++i) (i < nTrain ? d.trainCells : d.validationCells).push_back(i);
    d.collate = collate();
    return d;
  }
};

inline std::vector<torch::Tensor> weightsOf(torch::nn::Module& m) {
  std::vector<torch::Tensor> w;
  for (auto& p : m.parameters()) w.push_back(p.detach().clone());
  return w;
}

inline bool bitwiseEqual(const std::vector<torch::Tensor>& a, const std::vector<torch::Tensor>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (!torch::equal(a[i], b[i])) return false;
  return true;
}

inline double maxAbsDifference(const std::vector<torch::Tensor>& a, const std::vector<torch::Tensor>& b) {
  double m = 0;
  for (size_t i = 0; i < a.size(); ++i) m = std::max(m, (a[i] - b[i]).abs().max().item<double>());
  return m;
}

}  // namespace cw::train::testing
