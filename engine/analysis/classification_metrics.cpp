#include "cellwright/analysis/classification_metrics.h"

#include "cellwright/core/errors.h"

namespace cw::analysis {

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
  // scikit-learn's macro average runs over labels present in truth or prediction.
  int present = 0;
  for (size_t c = 0; c < k; ++c) {
    int64_t tp = r.confusion[c][c], support = 0, predictedCount = 0;
    for (size_t j = 0; j < k; ++j) {
      support += r.confusion[c][j];
      predictedCount += r.confusion[j][c];
    }
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

nlohmann::json classificationToJson(const ClassificationResult& r) {
  nlohmann::json perClass = nlohmann::json::object();
  for (size_t c = 0; c < r.labels.size(); ++c) {
    const auto& m = r.perClass[c];
    perClass[r.labels[c]] = {{"precision", m.precision}, {"recall", m.recall}, {"f1", m.f1}, {"support", m.support}};
  }
  return {{"accuracy", r.accuracy},
          {"macro_f1", r.macroF1},
          {"weighted_f1", r.weightedF1},
          {"per_class", perClass},
          {"confusion", {{"labels", r.labels}, {"matrix", r.confusion}}}};
}

}  // namespace cw::analysis
