#pragma once
// Classification metrics with scikit-learn's definitions (zero_division = 0).
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

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

struct ClassificationResult {
  double accuracy = 0, macroF1 = 0, weightedF1 = 0;
  std::vector<ClassMetrics> perClass;            // one per label
  std::vector<std::vector<int64_t>> confusion;   // rows = truth, columns = prediction
  std::vector<std::string> labels;
};

// `truth` and `predicted` are label codes in [0, labels.size()).
ClassificationResult classificationMetrics(const std::vector<int>& truth, const std::vector<int>& predicted,
                                           const ClassificationOptions& options);

// The contract's metrics.json keys: accuracy, macro_f1, weighted_f1, per_class, confusion.
nlohmann::json classificationToJson(const ClassificationResult& result);

}  // namespace cw::analysis
