#pragma once
// Classification metrics with scikit-learn's definitions (zero_division = 0).
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cellwright/io/dataset.h"

namespace cw::analysis {

struct ClassMetrics {
  double precision = 0, recall = 0, f1 = 0;
  int64_t support = 0;
};

struct ClassificationOptions {
  // Label names in the order of rows/columns of the confusion matrix. Truth and prediction
  // codes index into it.
  std::vector<std::string> labels;
};

// One-vs-rest ROC curve as scikit-learn's roc_curve(drop_intermediate=False): one point per
// distinct score, thresholds descending, the first threshold is max score + 1 (sklearn 1.2).
struct RocCurve {
  std::vector<double> fpr, tpr, thresholds;
  double auc = 0;  // NaN when the class has no positives or no negatives in the truth
};

// scikit-learn's precision_recall_curve: recall decreasing, ending at (precision 1, recall 0);
// thresholds ascending (one fewer than the points).
struct PrecisionRecallCurve {
  std::vector<double> precision, recall, thresholds;
  double averagePrecision = 0;  // sklearn's average_precision_score (NaN without positives)
};

struct ClassificationResult {
  double accuracy = 0, macroF1 = 0, weightedF1 = 0;
  std::vector<ClassMetrics> perClass;            // one per label
  std::vector<std::vector<int64_t>> confusion;   // rows = truth, columns = prediction
  std::vector<std::vector<double>> confusionNormalized;  // each row divided by its sum (0 for empty rows)
  std::vector<std::string> labels;
  // Filled when probabilities were given.
  bool hasProbabilities = false;
  std::vector<RocCurve> roc;                  // one per label
  std::vector<PrecisionRecallCurve> pr;       // one per label
  double macroAuc = 0;  // mean AUC over the labels whose AUC is defined (NaN if none)
};

// `truth` and `predicted` are label codes in [0, labels.size()).
ClassificationResult classificationMetrics(const std::vector<int>& truth, const std::vector<int>& predicted,
                                           const ClassificationOptions& options);

// As above plus one-vs-rest ROC/PR curves and AUCs from `probabilities` (cells × labels,
// column c = score of label c).
ClassificationResult classificationMetrics(const std::vector<int>& truth, const std::vector<int>& predicted,
                                           const DenseMatrix& probabilities, const ClassificationOptions& options);

// Binary curves: `positive[i]` is 1 when sample i belongs to the positive class.
RocCurve rocCurve(const std::vector<uint8_t>& positive, const std::vector<double>& scores);
PrecisionRecallCurve precisionRecallCurve(const std::vector<uint8_t>& positive, const std::vector<double>& scores);
// Trapezoidal area under a curve given by points (x[i], y[i]), as sklearn.metrics.auc.
double areaUnderCurve(const std::vector<double>& x, const std::vector<double>& y);

// The contract's metrics.json keys: accuracy, macro_f1, weighted_f1, per_class, confusion
// (with `normalized` beside `matrix`); with probabilities also per_class auc, roc, macro_auc
// and pr {label: {precision, recall, average_precision}}. Undefined numbers are null.
nlohmann::json classificationToJson(const ClassificationResult& result);

}  // namespace cw::analysis
