#pragma once
// The training run the data-parallel test repeats with one and with two processes.
#include "tiny_model.h"

namespace cw::train::testing {

inline std::vector<torch::Tensor> trainForDdpTest(std::shared_ptr<Communicator> communicator) {
  SyntheticData data(90);
  TinyClassifier model(21, /*dropoutRate=*/0.0);
  TrainerOptions o;
  o.epochs = 3;
  o.batchSize = 16;  // global batch; the last one (90 = 5 * 16 + 10) is uneven across ranks
  o.learningRate = 0.02;
  o.warmupFraction = 0.1;
  o.decay = DecayKind::Cosine;
  o.seed = 5;
  o.communicator = std::move(communicator);
  auto split = data.split(90);  // no validation: the last epoch is kept
  trainModel(model, split, o);
  return weightsOf(model.module());
}

}  // namespace cw::train::testing
