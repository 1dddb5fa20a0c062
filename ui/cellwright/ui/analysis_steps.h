#pragma once
// Analysis steps as dataset edits run on the engine thread: the job copies the current
// snapshot, applies the step (PCA, neighbours, UMAP, Leiden) and hands the new snapshot to
// the Document on the GUI thread, so every view refreshes from datasetChanged.
#include <QString>

#include <functional>
#include <string>

#include "cellwright/analysis/leiden.h"
#include "cellwright/analysis/neighbors.h"
#include "cellwright/analysis/paga.h"
#include "cellwright/analysis/pca.h"
#include "cellwright/analysis/umap.h"
#include "cellwright/core/feedback.h"
#include "cellwright/io/dataset.h"
#include "cellwright/ui/job.h"

namespace cw::ui {

class Document;
class JobQueue;

using DatasetEdit = std::function<void(cw::Dataset& dataset, cw::Feedback& feedback)>;

// Queues `edit` on a copy of the document's current dataset; on success the copy replaces
// it (marked modified) and `then` runs on the GUI thread.
JobId enqueueDatasetEdit(JobQueue* jobs, Document* document, const QString& title, DatasetEdit edit,
                         std::function<void()> then = {});

// When X holds raw counts: keeps them in layers['counts'], then X = log1p(counts scaled to
// 10,000 per cell) (scanpy's normalize_total + log1p). Leaves normalised data alone.
DatasetEdit normalizeStep();
DatasetEdit pcaStep(const cw::analysis::PcaOptions& options);
DatasetEdit neighborsStep(const cw::analysis::NeighborsOptions& options, const std::string& useRep = "X_pca");
DatasetEdit umapStep(const cw::analysis::UmapOptions& options);  // stores obsm["X_umap"]
DatasetEdit leidenStep(const cw::analysis::LeidenOptions& options, const std::string& key = "leiden");
// PAGA between the groups of a categorical column, stored in uns['paga'].
DatasetEdit pagaStep(const cw::analysis::PagaOptions& options, const std::string& groupsKey = "leiden");
// Adds a categorical column: "selected" for `cells`, "other" for the rest.
DatasetEdit selectionCategoryStep(const std::string& column, std::vector<int64_t> cells);

class ParametersDialog;
// The parameter forms of the steps, pre-filled with the engine's (scanpy's) defaults, and the
// options they describe.
void addPcaFields(ParametersDialog& dialog);
cw::analysis::PcaOptions pcaOptionsFrom(const ParametersDialog& dialog);
void addNeighborsFields(ParametersDialog& dialog);
cw::analysis::NeighborsOptions neighborsOptionsFrom(const ParametersDialog& dialog);
void addUmapFields(ParametersDialog& dialog);
cw::analysis::UmapOptions umapOptionsFrom(const ParametersDialog& dialog);
void addLeidenFields(ParametersDialog& dialog);
cw::analysis::LeidenOptions leidenOptionsFrom(const ParametersDialog& dialog);

// (normalise ->) PCA -> neighbours -> UMAP -> Leiden with scanpy's defaults, one job after
// the other; with `withPaga`, PAGA between the Leiden clusters last.
void enqueueEmbedAndCluster(JobQueue* jobs, Document* document, std::function<void()> then = {}, bool withPaga = false);

}  // namespace cw::ui
