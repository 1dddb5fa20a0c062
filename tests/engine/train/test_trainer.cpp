#include <gtest/gtest.h>

#include <filesystem>

#include "cellwright/core/errors.h"
#include "cellwright/train/checkpoint.h"
#include "cellwright/train/trainer.h"
#include "tiny_model.h"

using namespace cw::train;
using namespace cw::train::testing;
namespace fs = std::filesystem;

namespace {

fs::path freshDir(const std::string& name) {
  auto dir = fs::temp_directory_path() / ("cw_trainer_" + name + "_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

TrainerOptions baseOptions() {
  TrainerOptions o;
  o.epochs = 2;
  o.batchSize = 8;
  o.learningRate = 0.01;
  o.warmupFraction = 0.2;
  o.decay = DecayKind::Linear;
  o.seed = 11;
  return o;
}

}  // namespace

TEST(Trainer, LearnsSeparableData) {
  SyntheticData data(200);
  TinyClassifier model(1);
  auto o = baseOptions();
  o.epochs = 15;
  o.learningRate = 0.05;
  auto result = trainModel(model, data.split(150), o);
  ASSERT_EQ(result.history.size(), 15u);
  EXPECT_GT(result.history[result.bestEpoch - 1].validationAccuracy, 0.9);
  EXPECT_LT(result.history.back().trainLoss, result.history.front().trainLoss);
  EXPECT_EQ(result.steps, 15 * 19);  // ceil(150 / 8) steps per epoch
}

TEST(Trainer, ResumeAfterCancelGivesBitwiseIdenticalWeights) {
  SyntheticData data(60);
  const auto split = data.split(40);
  auto o = baseOptions();
  o.checkpointDir = freshDir("straight");
  TinyClassifier straight(1);
  auto full = trainModel(straight, split, o);

  // Same run, canceled during epoch 2: last.ckpt holds epoch 1.
  o.checkpointDir = freshDir("resumed");
  TinyClassifier first(1);
  cw::Feedback feedback;
  feedback.setProgressCallback([&](const cw::Progress& p) {
    if (p.values.at("epoch") == 2) feedback.cancel();
  });
  EXPECT_THROW(trainModel(first, split, o, &feedback), cw::Canceled);
  TinyClassifier second(99);  // other initial weights: everything must come from the checkpoint
  o.resume = true;
  auto resumed = trainModel(second, split, o);
  EXPECT_TRUE(resumed.resumed);
  EXPECT_TRUE(bitwiseEqual(weightsOf(straight.module()), weightsOf(second.module())));
  ASSERT_EQ(resumed.history.size(), 2u);
  EXPECT_EQ(resumed.history[0].validationLoss, full.history[0].validationLoss);
  EXPECT_EQ(resumed.history[1].trainLoss, full.history[1].trainLoss);
  EXPECT_EQ(resumed.steps, full.steps);
}

TEST(Trainer, ConstantRateRunExtendedByResumeMatchesLongerRun) {
  SyntheticData data(60);
  const auto split = data.split(40);
  auto o = baseOptions();
  o.warmupFraction = 0;
  o.decay = DecayKind::Constant;
  const auto straightDir = freshDir("extend_a");
  o.checkpointDir = straightDir;
  TinyClassifier straight(3);
  trainModel(straight, split, o);
  o.checkpointDir = freshDir("extend_b");
  o.epochs = 1;
  TinyClassifier part(3);
  trainModel(part, split, o);
  o.epochs = 2;
  o.resume = true;
  TinyClassifier rest(5);
  trainModel(rest, split, o);
  // last.ckpt of both runs holds epoch 2's weights
  TinyClassifier a(0), b(0);
  loadCheckpoint(fs::path(o.checkpointDir) / "last.ckpt", b.module(), nullptr, torch::kCPU);
  loadCheckpoint(straightDir / "last.ckpt", a.module(), nullptr, torch::kCPU);
  EXPECT_TRUE(bitwiseEqual(weightsOf(a.module()), weightsOf(b.module())));
}

TEST(Trainer, CancelStopsWithinOneBatchAndKeepsLastGoodCheckpoint) {
  SyntheticData data(100);
  auto o = baseOptions();
  o.epochs = 3;
  o.checkpointDir = freshDir("cancel");
  TinyClassifier model(1);
  cw::Feedback feedback;
  int batchesAfterCancel = 0;
  feedback.setProgressCallback([&](const cw::Progress& p) {
    if (feedback.isCanceled()) ++batchesAfterCancel;
    if (p.values.at("epoch") == 2 && p.values.at("batch") == 3) feedback.cancel();
  });
  EXPECT_THROW(trainModel(model, data.split(80), o, &feedback), cw::Canceled);
  EXPECT_EQ(batchesAfterCancel, 0);
  TinyClassifier reloaded(2);
  auto state = loadCheckpoint(o.checkpointDir / "last.ckpt", reloaded.module(), nullptr, torch::kCPU);
  EXPECT_EQ(state.epochsDone, 1);
  EXPECT_EQ(state.step, 10);  // 80 cells / 8 per step
  EXPECT_TRUE(fs::exists(o.checkpointDir / "best.ckpt"));
  for (const auto& entry : fs::directory_iterator(o.checkpointDir))  // no temporary left behind
    EXPECT_EQ(entry.path().extension(), ".ckpt") << entry.path();
}

TEST(Trainer, OutOfMemoryHalvesMicroBatchKeepingTheEffectiveBatch) {
  SyntheticData data(64);
  auto o = baseOptions();
  o.batchSize = 16;
  o.microBatchSize = 16;
  TinyClassifier reference(4);
  trainModel(reference, data.split(48), o);
  o.debugOutOfMemoryAtStep = 2;
  TinyClassifier recovered(4);
  cw::Feedback feedback;
  std::string warning;
  feedback.setLogCallback([&](cw::LogLevel level, const std::string& m) {
    if (level == cw::LogLevel::Warning) warning = m;
  });
  auto result = trainModel(recovered, data.split(48), o, &feedback);
  EXPECT_EQ(result.finalMicroBatchSize, 8);
  EXPECT_NE(warning.find("micro-batch halved to 8"), std::string::npos) << warning;
  ASSERT_EQ(result.warnings.size(), 1u);
  // Same effective batch: only floating-point summation order differs.
  EXPECT_LT(maxAbsDifference(weightsOf(reference.module()), weightsOf(recovered.module())), 1e-5);
}

TEST(Trainer, GradientAccumulationMatchesTheFullBatch) {
  SyntheticData data(64);
  auto o = baseOptions();
  o.batchSize = 16;
  TinyClassifier whole(6), accumulated(6);
  o.microBatchSize = 16;
  trainModel(whole, data.split(48), o);
  o.microBatchSize = 5;  // uneven micro-batches: 5+5+5+1
  trainModel(accumulated, data.split(48), o);
  EXPECT_LT(maxAbsDifference(weightsOf(whole.module()), weightsOf(accumulated.module())), 1e-5);
}

TEST(Trainer, NanLossStopsWithClearMessageAndKeepsCheckpoint) {
  SyntheticData data(40);
  auto o = baseOptions();
  o.epochs = 3;
  o.checkpointDir = freshDir("nan");
  o.debugNanLossAtStep = 5;  // epoch 2 (4 steps per epoch)
  TinyClassifier model(1);
  try {
    trainModel(model, data.split(32), o);
    FAIL() << "expected an error";
  } catch (const cw::Error& e) {
    EXPECT_NE(std::string(e.what()).find("NaN at step 5"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("last good checkpoint"), std::string::npos) << e.what();
  }
  TinyClassifier reloaded(2);
  EXPECT_EQ(loadCheckpoint(o.checkpointDir / "last.ckpt", reloaded.module(), nullptr, torch::kCPU).epochsDone, 1);
}

TEST(Trainer, EarlyStoppingAfterPatienceAndBestEpochRestored) {
  SyntheticData data(40);
  auto o = baseOptions();
  o.epochs = 10;
  o.learningRate = 0.0;  // nothing improves after epoch 1
  o.patience = 2;
  o.weightDecay = 0;
  TinyClassifier model(1);
  const auto before = weightsOf(model.module());
  auto result = trainModel(model, data.split(30), o);
  EXPECT_TRUE(result.stoppedEarly);
  EXPECT_EQ(result.history.size(), 3u);
  EXPECT_EQ(result.bestEpoch, 1);
  EXPECT_TRUE(bitwiseEqual(before, weightsOf(model.module())));
}

TEST(Trainer, ClassWeightsChangeTheLoss) {
  SyntheticData data(30);
  TinyClassifier model(1);
  auto o = baseOptions();
  const auto split = data.split(30);
  auto plain = evaluateLoss(model, split.trainCells, split.collate, 30, o);
  // Hand-computed: weighted cross entropy = sum(w_y * nll) / sum(w_y).
  torch::NoGradGuard g;
  model.module().eval();
  auto logits = model.net->forward(data.features);
  auto nll = -torch::log_softmax(logits, 1).gather(1, data.labels.unsqueeze(1)).squeeze(1);
  EXPECT_NEAR(plain.loss, nll.mean().item<double>(), 1e-6);
  o.classWeights = {1.0, 2.0, 4.0};
  auto w = torch::tensor({1.0f, 2.0f, 4.0f}).index_select(0, data.labels);
  auto weighted = evaluateLoss(model, split.trainCells, split.collate, 30, o);
  EXPECT_NEAR(weighted.loss, ((w * nll).sum() / w.sum()).item<double>(), 1e-6);
}

TEST(Trainer, RejectsBadOptions) {
  SyntheticData data(10);
  TinyClassifier model(1);
  auto o = baseOptions();
  o.epochs = 0;
  EXPECT_THROW(trainModel(model, data.split(8), o), cw::Error);
  o = baseOptions();
  o.resume = true;
  o.checkpointDir = freshDir("empty");
  EXPECT_THROW(trainModel(model, data.split(8), o), cw::Error);
}
