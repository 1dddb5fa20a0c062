#include <cmath>

#include <gtest/gtest.h>

#include "cellwright/analysis/classification_metrics.h"
#include "cellwright/core/errors.h"
#include "test_helpers.h"

using namespace cw::analysis;

namespace {

void expectVectorNear(const std::vector<double>& actual, const nlohmann::json& expected, double tolerance) {
  ASSERT_EQ(actual.size(), expected.size());
  for (size_t i = 0; i < actual.size(); ++i) EXPECT_NEAR(actual[i], expected[i].get<double>(), tolerance) << "at " << i;
}

}  // namespace

TEST(ClassificationMetrics, HandComputedRocWithTies) {
  // Scores 0.9(+), 0.8(-), 0.8(+), 0.1(-): the tie at 0.8 is one point of the curve.
  const RocCurve roc = rocCurve({1, 0, 1, 0}, {0.9, 0.8, 0.8, 0.1});
  EXPECT_EQ(roc.fpr, (std::vector<double>{0, 0, 0.5, 1}));
  EXPECT_EQ(roc.tpr, (std::vector<double>{0, 0.5, 1, 1}));
  EXPECT_EQ(roc.thresholds, (std::vector<double>{1.9, 0.9, 0.8, 0.1}));
  // Area: 0.5 * (0.5 + 1) / 2 + 0.5 * 1 = 0.875 (a tie counts half, as the Mann-Whitney U).
  EXPECT_DOUBLE_EQ(roc.auc, 0.875);
}

TEST(ClassificationMetrics, HandComputedPrecisionRecall) {
  const auto pr = precisionRecallCurve({0, 0, 1, 1}, {0.1, 0.4, 0.35, 0.8});
  // scikit-learn's documented example.
  EXPECT_EQ(pr.thresholds, (std::vector<double>{0.1, 0.35, 0.4, 0.8}));
  const std::vector<double> precision{0.5, 2.0 / 3.0, 0.5, 1.0, 1.0}, recall{1, 1, 0.5, 0.5, 0};
  for (size_t i = 0; i < precision.size(); ++i) {
    EXPECT_DOUBLE_EQ(pr.precision[i], precision[i]);
    EXPECT_DOUBLE_EQ(pr.recall[i], recall[i]);
  }
  EXPECT_NEAR(pr.averagePrecision, 0.8333333333333333, 1e-15);
}

TEST(ClassificationMetrics, AucUndefinedWithoutPositives) {
  EXPECT_TRUE(std::isnan(rocCurve({0, 0, 0}, {0.1, 0.2, 0.3}).auc));
}

TEST(ClassificationMetrics, RowNormalisedConfusion) {
  ClassificationOptions o;
  o.labels = {"a", "b", "c"};
  const auto r = classificationMetrics({0, 0, 0, 1, 1}, {0, 1, 1, 1, 1}, o);
  EXPECT_DOUBLE_EQ(r.confusionNormalized[0][0], 1.0 / 3.0);
  EXPECT_DOUBLE_EQ(r.confusionNormalized[0][1], 2.0 / 3.0);
  EXPECT_DOUBLE_EQ(r.confusionNormalized[1][1], 1.0);
  EXPECT_DOUBLE_EQ(r.confusionNormalized[2][2], 0.0);  // label without cells
  EXPECT_DOUBLE_EQ(r.accuracy, 0.6);
}

TEST(ClassificationMetrics, MatchesScikitLearn) {
  const auto fixture = loadFixture("metrics_reference.json")["classification"];
  const auto truth = fixture["truth"].get<std::vector<int>>();
  const auto pred = fixture["pred"].get<std::vector<int>>();
  const cw::DenseMatrix proba = denseFromJson(fixture["proba"]);
  ClassificationOptions o;
  o.labels = {"A", "B", "C", "D"};
  const auto r = classificationMetrics(truth, pred, proba, o);
  EXPECT_NEAR(r.accuracy, fixture["accuracy"].get<double>(), 1e-12);
  EXPECT_NEAR(r.macroF1, fixture["macro_f1"].get<double>(), 1e-12);
  EXPECT_NEAR(r.weightedF1, fixture["weighted_f1"].get<double>(), 1e-12);
  for (size_t c = 0; c < 4; ++c) {
    expectVectorNear(r.confusionNormalized[c], fixture["confusion_normalized"][c], 1e-12);
    const auto& roc = fixture["roc"][c];
    expectVectorNear(r.roc[c].fpr, roc["fpr"], 1e-12);
    expectVectorNear(r.roc[c].tpr, roc["tpr"], 1e-12);
    expectVectorNear(r.roc[c].thresholds, roc["thresholds"], 1e-12);
    EXPECT_NEAR(r.roc[c].auc, roc["auc"].get<double>(), 1e-9);
    const auto& pr = fixture["pr"][c];
    expectVectorNear(r.pr[c].precision, pr["precision"], 1e-12);
    expectVectorNear(r.pr[c].recall, pr["recall"], 1e-12);
    expectVectorNear(r.pr[c].thresholds, pr["thresholds"], 1e-12);
    EXPECT_NEAR(r.pr[c].averagePrecision, pr["average_precision"].get<double>(), 1e-9);
  }
  EXPECT_NEAR(r.macroAuc, fixture["macro_auc"].get<double>(), 1e-9);
  // Rounded scores do not sum to one; sklearn's multiclass ovr on renormalised scores differs
  // only through that renormalisation, so it stays close.
  EXPECT_NEAR(r.macroAuc, fixture["macro_auc_sklearn"].get<double>(), 0.02);

  const auto json = classificationToJson(r);
  EXPECT_EQ(json["roc"]["B"]["fpr"].size(), r.roc[1].fpr.size());
  EXPECT_NEAR(json["per_class"]["C"]["auc"].get<double>(), fixture["roc"][2]["auc"].get<double>(), 1e-9);
  EXPECT_NEAR(json["macro_auc"].get<double>(), fixture["macro_auc"].get<double>(), 1e-9);
  EXPECT_TRUE(json["confusion"].contains("normalized"));
}

TEST(ClassificationMetrics, RejectsMismatchedProbabilities) {
  ClassificationOptions o;
  o.labels = {"a", "b"};
  cw::DenseMatrix wrong;
  wrong.rows = 2;
  wrong.cols = 3;
  wrong.values.assign(6, 0.3);
  EXPECT_THROW(classificationMetrics({0, 1}, {0, 1}, wrong, o), cw::Error);
}
