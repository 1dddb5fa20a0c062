#include <gtest/gtest.h>

#include "cellwright/core/errors.h"
#include "cellwright/train/schedule.h"

using namespace cw::train;

TEST(Schedule, LinearWarmupThenLinearDecayToZero) {
  ScheduleOptions o;
  o.peakLearningRate = 1.0;
  o.warmupSteps = 4;
  o.totalSteps = 14;  // 4 warm-up steps, then 10 steps falling from 1 to 0
  o.decay = DecayKind::Linear;
  EXPECT_DOUBLE_EQ(learningRateAt(0, o), 0.25);
  EXPECT_DOUBLE_EQ(learningRateAt(3, o), 1.0);
  EXPECT_DOUBLE_EQ(learningRateAt(4, o), 1.0);
  EXPECT_NEAR(learningRateAt(4 + 9 / 3, o), 2.0 / 3.0, 1e-12);
  EXPECT_DOUBLE_EQ(learningRateAt(13, o), 0.0);
}

TEST(Schedule, CosineHalfwayIsMidpointAndEndsAtFinalRatio) {
  ScheduleOptions o;
  o.peakLearningRate = 2.0;
  o.totalSteps = 11;  // decay over steps 0..10
  o.decay = DecayKind::Cosine;
  o.finalRatio = 0.1;
  EXPECT_DOUBLE_EQ(learningRateAt(0, o), 2.0);
  EXPECT_NEAR(learningRateAt(5, o), (2.0 + 0.2) / 2.0, 1e-12);
  EXPECT_NEAR(learningRateAt(10, o), 0.2, 1e-12);
}

TEST(Schedule, ConstantAndParsing) {
  ScheduleOptions o;
  o.peakLearningRate = 0.5;
  o.totalSteps = 100;
  o.decay = parseDecayKind("constant");
  EXPECT_DOUBLE_EQ(learningRateAt(77, o), 0.5);
  EXPECT_EQ(parseDecayKind("cosine"), DecayKind::Cosine);
  EXPECT_THROW(parseDecayKind("step"), cw::Error);
}
