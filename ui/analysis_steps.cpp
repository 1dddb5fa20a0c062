#include "cellwright/ui/analysis_steps.h"

#include <memory>

#include "cellwright/core/errors.h"
#include "cellwright/preprocess/normalize.h"
#include "cellwright/ui/document.h"
#include "cellwright/ui/job_queue.h"
#include "cellwright/ui/parameters_dialog.h"

namespace cw::ui {

JobId enqueueDatasetEdit(JobQueue* jobs, Document* document, const QString& title, DatasetEdit edit,
                         std::function<void()> then) {
  auto snapshot = document->dataset();
  return jobs->enqueue(
      title,
      [snapshot, edit](cw::Feedback& feedback) -> std::any {
        if (!snapshot) throw cw::Error("open a dataset first");
        auto copy = std::make_shared<cw::Dataset>(*snapshot);  // copied here, off the GUI thread
        edit(*copy, feedback);
        return std::shared_ptr<const cw::Dataset>(std::move(copy));
      },
      [document, then](std::any& result) {
        document->setDataset(std::any_cast<std::shared_ptr<const cw::Dataset>>(result), document->path(), true);
        if (then) then();
      });
}

DatasetEdit normalizeStep() {
  return [](cw::Dataset& dataset, cw::Feedback& feedback) {
    if (!cw::looksLikeCounts(dataset.X)) {
      feedback.info("X is already normalised; left as it is");
      return;
    }
    if (!dataset.layers.count("counts")) dataset.layers["counts"] = dataset.X;
    cw::preprocess::normalizeTotal(dataset.X);
    cw::preprocess::log1p(dataset.X);
    dataset.xDtype = "float32";
    dataset.countsSource = cw::detectCountsSource(dataset);
  };
}

DatasetEdit pcaStep(const cw::analysis::PcaOptions& options) {
  return [options](cw::Dataset& dataset, cw::Feedback& feedback) {
    cw::analysis::storePca(dataset, cw::analysis::pca(dataset, options, &feedback));
  };
}

DatasetEdit neighborsStep(const cw::analysis::NeighborsOptions& options, const std::string& useRep) {
  return [options, useRep](cw::Dataset& dataset, cw::Feedback& feedback) {
    const auto result = cw::analysis::computeNeighbors(cw::analysis::representation(dataset, useRep), options, &feedback);
    cw::analysis::storeNeighbors(dataset, result, options, useRep);
  };
}

DatasetEdit umapStep(const cw::analysis::UmapOptions& options) {
  return [options](cw::Dataset& dataset, cw::Feedback& feedback) {
    auto graph = dataset.obsp.find("connectivities");
    if (graph == dataset.obsp.end()) throw cw::Error("compute the neighbourhood graph before UMAP");
    dataset.obsm["X_umap"] = cw::analysis::umap(graph->second, options, &feedback).embedding;
  };
}

DatasetEdit leidenStep(const cw::analysis::LeidenOptions& options, const std::string& key) {
  return [options, key](cw::Dataset& dataset, cw::Feedback& feedback) {
    auto graph = dataset.obsp.find("connectivities");
    if (graph == dataset.obsp.end()) throw cw::Error("compute the neighbourhood graph before Leiden clustering");
    cw::analysis::storeClusters(dataset, cw::analysis::leiden(graph->second, options, &feedback).membership, key);
  };
}

DatasetEdit pagaStep(const cw::analysis::PagaOptions& options, const std::string& groupsKey) {
  return [options, groupsKey](cw::Dataset& dataset, cw::Feedback& feedback) {
    auto graph = dataset.obsp.find("connectivities");
    if (graph == dataset.obsp.end()) throw cw::Error("compute the neighbourhood graph before PAGA");
    if (!dataset.obs.has(groupsKey) || dataset.obs.at(groupsKey).kind != cw::Column::Kind::Categorical)
      throw cw::Error("PAGA needs a categorical annotation '" + groupsKey + "' (run Leiden clustering first)");
    const cw::Column& groups = dataset.obs.at(groupsKey);
    cw::analysis::storePaga(dataset, cw::analysis::paga(graph->second, groups.codes, groups.categories, options, &feedback), groupsKey);
  };
}

DatasetEdit selectionCategoryStep(const std::string& column, std::vector<int64_t> cells) {
  return [column, cells = std::move(cells)](cw::Dataset& dataset, cw::Feedback&) {
    std::vector<int32_t> codes(static_cast<size_t>(dataset.nObs()), 1);
    for (int64_t c : cells)
      if (c >= 0 && c < dataset.nObs()) codes[static_cast<size_t>(c)] = 0;
    dataset.obs.set(column, cw::Column::categorical(std::move(codes), {"selected", "other"}));
  };
}

void addPcaFields(ParametersDialog& d) {
  const cw::analysis::PcaOptions o;
  d.addField(QStringLiteral("n_comps"), QObject::tr("Components"), o.nComps, 2, 500);
  d.addField(QStringLiteral("seed"), QObject::tr("Random seed"), static_cast<double>(o.seed), 0, 1e9);
}

cw::analysis::PcaOptions pcaOptionsFrom(const ParametersDialog& d) {
  cw::analysis::PcaOptions o;
  o.nComps = static_cast<int>(d.value(QStringLiteral("n_comps")));
  o.seed = static_cast<uint64_t>(d.value(QStringLiteral("seed")));
  return o;
}

void addNeighborsFields(ParametersDialog& d) {
  const cw::analysis::NeighborsOptions o;
  d.addField(QStringLiteral("n_neighbors"), QObject::tr("Neighbours (the cell included)"), o.nNeighbors, 2, 500);
  d.addField(QStringLiteral("seed"), QObject::tr("Random seed"), static_cast<double>(o.seed), 0, 1e9);
}

cw::analysis::NeighborsOptions neighborsOptionsFrom(const ParametersDialog& d) {
  cw::analysis::NeighborsOptions o;
  o.nNeighbors = static_cast<int>(d.value(QStringLiteral("n_neighbors")));
  o.seed = static_cast<uint64_t>(d.value(QStringLiteral("seed")));
  return o;
}

void addUmapFields(ParametersDialog& d) {
  const cw::analysis::UmapOptions o;
  d.addField(QStringLiteral("min_dist"), QObject::tr("Minimum distance"), o.minDist, 0, 10, 3);
  d.addField(QStringLiteral("spread"), QObject::tr("Spread"), o.spread, 0.01, 10, 3);
  d.addField(QStringLiteral("epochs"), QObject::tr("Epochs (0: automatic)"), o.epochs, 0, 10000);
  d.addField(QStringLiteral("seed"), QObject::tr("Random seed"), static_cast<double>(o.seed), 0, 1e9);
}

cw::analysis::UmapOptions umapOptionsFrom(const ParametersDialog& d) {
  cw::analysis::UmapOptions o;
  o.minDist = d.value(QStringLiteral("min_dist"));
  o.spread = d.value(QStringLiteral("spread"));
  o.epochs = static_cast<int>(d.value(QStringLiteral("epochs")));
  o.seed = static_cast<uint64_t>(d.value(QStringLiteral("seed")));
  return o;
}

void addLeidenFields(ParametersDialog& d) {
  const cw::analysis::LeidenOptions o;
  d.addField(QStringLiteral("resolution"), QObject::tr("Resolution"), o.resolution, 0.01, 20, 2);
  d.addField(QStringLiteral("seed"), QObject::tr("Random seed"), static_cast<double>(o.seed), 0, 1e9);
}

cw::analysis::LeidenOptions leidenOptionsFrom(const ParametersDialog& d) {
  cw::analysis::LeidenOptions o;
  o.resolution = d.value(QStringLiteral("resolution"));
  o.seed = static_cast<uint64_t>(d.value(QStringLiteral("seed")));
  return o;
}

void enqueueEmbedAndCluster(JobQueue* jobs, Document* document, std::function<void()> then, bool withPaga) {
  // Each step needs the previous one's output, so the next job is queued from the
  // continuation, with the new snapshot.
  std::function<void()> last = then;
  if (withPaga) last = [=] { enqueueDatasetEdit(jobs, document, QObject::tr("PAGA"), pagaStep({}), then); };
  enqueueDatasetEdit(jobs, document, QObject::tr("Normalise"), normalizeStep(), [=] {
    enqueueDatasetEdit(jobs, document, QObject::tr("PCA"), pcaStep({}), [=] {
      enqueueDatasetEdit(jobs, document, QObject::tr("Neighbours"), neighborsStep({}), [=] {
        enqueueDatasetEdit(jobs, document, QObject::tr("UMAP"), umapStep({}), [=] {
          enqueueDatasetEdit(jobs, document, QObject::tr("Leiden"), leidenStep({}), last);
        });
      });
    });
  });
}

}  // namespace cw::ui
