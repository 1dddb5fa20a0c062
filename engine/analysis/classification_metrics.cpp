#include "cellwright/analysis/classification_metrics.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include "cellwright/core/errors.h"

namespace cw::analysis {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// sklearn's _binary_clf_curve: cumulative false/true positives at each distinct score,
// scores taken in decreasing order.
struct ClfCurve {
  std::vector<double> fps, tps, thresholds;
};

ClfCurve binaryClfCurve(const std::vector<uint8_t>& positive, const std::vector<double>& scores) {
  if (positive.size() != scores.size()) throw Error("labels and scores have different lengths");
  for (double s : scores)
    if (!std::isfinite(s)) throw Error("scores contain NaN or infinite values");
  std::vector<size_t> order(scores.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return scores[a] > scores[b]; });
  ClfCurve c;
  double tp = 0;
  for (size_t r = 0; r < order.size(); ++r) {
    tp += positive[order[r]] ? 1 : 0;
    const bool lastOfTie = r + 1 == order.size() || scores[order[r + 1]] != scores[order[r]];
    if (lastOfTie) {
      c.tps.push_back(tp);
      c.fps.push_back(static_cast<double>(r + 1) - tp);
      c.thresholds.push_back(scores[order[r]]);
    }
  }
  return c;
}

nlohmann::json numberOrNull(double v) { return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(nullptr); }

}  // namespace

double areaUnderCurve(const std::vector<double>& x, const std::vector<double>& y) {
  if (x.size() != y.size()) throw Error("curve coordinates have different lengths");
  if (x.size() < 2) return kNaN;
  double area = 0;
  for (size_t i = 0; i + 1 < x.size(); ++i) area += (x[i + 1] - x[i]) * (y[i + 1] + y[i]) / 2.0;
  // sklearn accepts monotonically decreasing x and flips the sign.
  return std::abs(area);
}

RocCurve rocCurve(const std::vector<uint8_t>& positive, const std::vector<double>& scores) {
  const ClfCurve c = binaryClfCurve(positive, scores);
  RocCurve roc;
  roc.fpr.push_back(0);
  roc.tpr.push_back(0);
  roc.thresholds.push_back(c.thresholds.empty() ? 1.0 : c.thresholds.front() + 1.0);
  const double negatives = c.fps.empty() ? 0 : c.fps.back();
  const double positives = c.tps.empty() ? 0 : c.tps.back();
  for (size_t i = 0; i < c.tps.size(); ++i) {
    roc.fpr.push_back(negatives > 0 ? c.fps[i] / negatives : kNaN);
    roc.tpr.push_back(positives > 0 ? c.tps[i] / positives : kNaN);
    roc.thresholds.push_back(c.thresholds[i]);
  }
  roc.auc = (negatives > 0 && positives > 0) ? areaUnderCurve(roc.fpr, roc.tpr) : kNaN;
  return roc;
}

PrecisionRecallCurve precisionRecallCurve(const std::vector<uint8_t>& positive, const std::vector<double>& scores) {
  const ClfCurve c = binaryClfCurve(positive, scores);
  PrecisionRecallCurve pr;
  const size_t m = c.tps.size();
  const double positives = m ? c.tps.back() : 0;
  for (size_t r = m; r-- > 0;) {
    const double predictedPositive = c.tps[r] + c.fps[r];
    pr.precision.push_back(predictedPositive > 0 ? c.tps[r] / predictedPositive : 0.0);
    pr.recall.push_back(positives > 0 ? c.tps[r] / positives : 1.0);
    pr.thresholds.push_back(c.thresholds[r]);
  }
  pr.precision.push_back(1.0);
  pr.recall.push_back(0.0);
  if (positives > 0) {
    // average_precision_score: -sum(diff(recall) * precision[:-1]).
    double ap = 0;
    for (size_t i = 0; i + 1 < pr.recall.size(); ++i) ap -= (pr.recall[i + 1] - pr.recall[i]) * pr.precision[i];
    pr.averagePrecision = ap;
  } else {
    pr.averagePrecision = kNaN;
  }
  return pr;
}

ClassificationResult classificationMetrics(const std::vector<int>& truth, const std::vector<int>& predicted,
                                           const ClassificationOptions& options) {
  if (truth.size() != predicted.size()) throw Error("truth and prediction have different lengths");
  const size_t k = options.labels.size();
  ClassificationResult r;
  r.labels = options.labels;
  r.confusion.assign(k, std::vector<int64_t>(k, 0));
  int64_t correct = 0;
  for (size_t i = 0; i < truth.size(); ++i) {
    if (truth[i] < 0 || truth[i] >= static_cast<int>(k) || predicted[i] < 0 || predicted[i] >= static_cast<int>(k))
      throw Error("label code out of range in metrics input");
    ++r.confusion[truth[i]][predicted[i]];
    correct += truth[i] == predicted[i];
  }
  const double n = static_cast<double>(truth.size());
  r.accuracy = n > 0 ? correct / n : 0.0;
  r.perClass.resize(k);
  r.confusionNormalized.assign(k, std::vector<double>(k, 0.0));
  // scikit-learn's macro average runs over labels present in truth or prediction.
  int present = 0;
  for (size_t c = 0; c < k; ++c) {
    int64_t tp = r.confusion[c][c], support = 0, predictedCount = 0;
    for (size_t j = 0; j < k; ++j) {
      support += r.confusion[c][j];
      predictedCount += r.confusion[j][c];
    }
    for (size_t j = 0; j < k; ++j)
      r.confusionNormalized[c][j] = support ? static_cast<double>(r.confusion[c][j]) / support : 0.0;
    auto& m = r.perClass[c];
    m.support = support;
    m.precision = predictedCount ? static_cast<double>(tp) / predictedCount : 0.0;
    m.recall = support ? static_cast<double>(tp) / support : 0.0;
    m.f1 = (m.precision + m.recall) > 0 ? 2 * m.precision * m.recall / (m.precision + m.recall) : 0.0;
    if (support > 0 || predictedCount > 0) {
      ++present;
      r.macroF1 += m.f1;
    }
    r.weightedF1 += m.f1 * support;
  }
  r.macroF1 = present ? r.macroF1 / present : 0.0;
  r.weightedF1 = n > 0 ? r.weightedF1 / n : 0.0;
  return r;
}

ClassificationResult classificationMetrics(const std::vector<int>& truth, const std::vector<int>& predicted,
                                           const DenseMatrix& probabilities, const ClassificationOptions& options) {
  ClassificationResult r = classificationMetrics(truth, predicted, options);
  const size_t k = options.labels.size();
  if (probabilities.rows != static_cast<int64_t>(truth.size()) || probabilities.cols != static_cast<int64_t>(k))
    throw Error("the probability matrix has " + std::to_string(probabilities.rows) + " x " +
                std::to_string(probabilities.cols) + " entries, expected " + std::to_string(truth.size()) + " cells x " +
                std::to_string(k) + " classes");
  r.hasProbabilities = true;
  std::vector<uint8_t> positive(truth.size());
  std::vector<double> scores(truth.size());
  double aucSum = 0;
  int aucCount = 0;
  for (size_t c = 0; c < k; ++c) {
    for (size_t i = 0; i < truth.size(); ++i) {
      positive[i] = truth[i] == static_cast<int>(c);
      scores[i] = probabilities.at(static_cast<int64_t>(i), static_cast<int64_t>(c));
    }
    r.roc.push_back(rocCurve(positive, scores));
    r.pr.push_back(precisionRecallCurve(positive, scores));
    if (std::isfinite(r.roc.back().auc)) {
      aucSum += r.roc.back().auc;
      ++aucCount;
    }
  }
  r.macroAuc = aucCount ? aucSum / aucCount : kNaN;
  return r;
}

nlohmann::json classificationToJson(const ClassificationResult& r) {
  nlohmann::json perClass = nlohmann::json::object();
  for (size_t c = 0; c < r.labels.size(); ++c) {
    const auto& m = r.perClass[c];
    perClass[r.labels[c]] = {{"precision", m.precision}, {"recall", m.recall}, {"f1", m.f1}, {"support", m.support}};
    if (r.hasProbabilities) perClass[r.labels[c]]["auc"] = numberOrNull(r.roc[c].auc);
  }
  nlohmann::json out = {{"accuracy", r.accuracy},
                        {"macro_f1", r.macroF1},
                        {"weighted_f1", r.weightedF1},
                        {"per_class", perClass},
                        {"confusion",
                         {{"labels", r.labels}, {"matrix", r.confusion}, {"normalized", r.confusionNormalized}}}};
  if (r.hasProbabilities) {
    auto numbers = [](const std::vector<double>& v) {
      nlohmann::json a = nlohmann::json::array();
      for (double x : v) a.push_back(numberOrNull(x));
      return a;
    };
    nlohmann::json roc = nlohmann::json::object(), pr = nlohmann::json::object();
    for (size_t c = 0; c < r.labels.size(); ++c) {
      roc[r.labels[c]] = {{"fpr", numbers(r.roc[c].fpr)}, {"tpr", numbers(r.roc[c].tpr)}, {"auc", numberOrNull(r.roc[c].auc)}};
      pr[r.labels[c]] = {{"precision", numbers(r.pr[c].precision)},
                         {"recall", numbers(r.pr[c].recall)},
                         {"average_precision", numberOrNull(r.pr[c].averagePrecision)}};
    }
    out["roc"] = roc;
    out["macro_auc"] = numberOrNull(r.macroAuc);
    out["pr"] = pr;
  }
  return out;
}

}  // namespace cw::analysis
