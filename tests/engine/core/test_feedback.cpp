#include <gtest/gtest.h>

#include <thread>
#include <vector>

#include "cellwright/core/errors.h"
#include "cellwright/core/feedback.h"

namespace {

TEST(Feedback, CancelIsSeenAtNextPollPoint) {
  cw::Feedback feedback;
  EXPECT_NO_THROW(feedback.throwIfCanceled());
  std::thread other([&] { feedback.cancel(); });
  other.join();
  EXPECT_TRUE(feedback.isCanceled());
  EXPECT_THROW(feedback.throwIfCanceled(), cw::Canceled);
}

TEST(Feedback, ProgressAndLogReachCallbacks) {
  cw::Feedback feedback;
  std::vector<double> fractions;
  std::vector<std::string> stages, logs;
  feedback.setProgressCallback([&](const cw::Progress& p) {
    fractions.push_back(p.fraction);
    stages.push_back(p.stage);
  });
  feedback.setLogCallback([&](cw::LogLevel level, const std::string& m) {
    logs.push_back((level == cw::LogLevel::Warning ? "W:" : "I:") + m);
  });
  feedback.setProgress(0.25, "reading");
  feedback.warning("odd values");
  feedback.setProgress(0.75, "writing");
  ASSERT_EQ(fractions.size(), 2u);
  EXPECT_DOUBLE_EQ(fractions[1], 0.75);
  EXPECT_EQ(stages[0], "reading");
  EXPECT_EQ(logs, std::vector<std::string>{"W:odd values"});
  EXPECT_DOUBLE_EQ(feedback.lastFraction(), 0.75);
}

TEST(Feedback, NullFeedbackPollIsHarmless) { EXPECT_NO_THROW(cw::pollCancel(nullptr)); }

}  // namespace
