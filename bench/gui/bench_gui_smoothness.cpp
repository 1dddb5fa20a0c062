// Embedding-view frame times: a synthetic UMAP-like embedding (Gaussian blobs, 20 categorical
// clusters) of N cells in an EmbeddingView, driven by real mouse-drag and wheel events on its
// canvas. A frame = the event, the Qt repaint it schedules (VTK render + blit + window
// composition) and glFinish, so the GPU (or llvmpipe) work is inside the time.
//   moving : pan drags and wheel zooms (level of detail above EmbeddingView::kLodThreshold)
//   at rest: full redraws of every cell with the camera still (after the interaction settles)
// Prints a JSON line per size.  Usage: bench_gui_smoothness [--cells N[,N...]] [--frames F]
#include <QApplication>
#include <QElapsedTimer>
#include <QMouseEvent>
#include <QOpenGLContext>
#include <QOpenGLFunctions>
#include <QWheelEvent>

#include <algorithm>
#include <ctime>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "cellwright/ui/document.h"
#include "cellwright/ui/embedding_view.h"
#include "cellwright/ui/job_queue.h"
#include "cellwright/ui/vtk_gl_widget.h"

namespace {

std::shared_ptr<const cw::Dataset> syntheticEmbedding(int64_t cells, uint64_t seed) {
  auto d = std::make_shared<cw::Dataset>();
  d->X.rows = cells;
  d->X.cols = 1;
  d->X.indptr.assign(static_cast<size_t>(cells) + 1, 0);
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> normal;
  std::uniform_int_distribution<int> cluster(0, 19);
  cw::DenseMatrix umap;
  umap.rows = cells;
  umap.cols = 2;
  umap.values.resize(static_cast<size_t>(cells) * 2);
  std::vector<int32_t> codes(static_cast<size_t>(cells));
  std::vector<std::string> names;
  for (int c = 0; c < 20; ++c) names.push_back("cluster " + std::to_string(c));
  d->obs.index.resize(static_cast<size_t>(cells));
  for (int64_t i = 0; i < cells; ++i) {
    const int c = cluster(rng);
    codes[static_cast<size_t>(i)] = c;
    umap.values[static_cast<size_t>(2 * i)] = (c % 5) * 6.0 + normal(rng);
    umap.values[static_cast<size_t>(2 * i + 1)] = (c / 5) * 6.0 + normal(rng) * 1.3;
    d->obs.index[static_cast<size_t>(i)] = std::to_string(i);
  }
  d->obsm["X_umap"] = std::move(umap);
  d->obs.set("cluster", cw::Column::categorical(std::move(codes), names));
  return d;
}

double percentile(std::vector<double> v, double q) {
  std::sort(v.begin(), v.end());
  const double pos = q * static_cast<double>(v.size() - 1);
  const auto lo = static_cast<size_t>(pos);
  const size_t hi = std::min(lo + 1, v.size() - 1);
  return v[lo] + (v[hi] - v[lo]) * (pos - static_cast<double>(lo));
}

double processCpuMs() {
  timespec t{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) * 1e3 + static_cast<double>(t.tv_nsec) / 1e6;
}

// Wall time of a frame, and the CPU time the whole process (GUI thread and llvmpipe's
// rasteriser threads) spent on it: on a shared machine the wall time also holds the time
// other processes had the cores, the CPU time does not.
struct FrameTime {
  double wallMs = 0, cpuMs = 0;
};

class FrameClock {
 public:
  explicit FrameClock(cw::ui::VtkGlWidget* canvas) : canvas_(canvas) {}
  // Delivers `event` to the canvas, lets Qt paint, waits for the GL work.
  FrameTime frame(QEvent* event) {
    QElapsedTimer t;
    const double cpu0 = processCpuMs();
    t.start();
    if (event) QApplication::sendEvent(canvas_, event);
    else canvas_->update();
    QApplication::processEvents();
    canvas_->makeCurrent();
    canvas_->context()->functions()->glFinish();
    canvas_->doneCurrent();
    return {static_cast<double>(t.nsecsElapsed()) / 1e6, processCpuMs() - cpu0};
  }

 private:
  cw::ui::VtkGlWidget* canvas_;
};

// "{median, p95, cpu_median, cpu_p95, frames}" of a list of frames.
std::string stats(const std::vector<FrameTime>& frames) {
  std::vector<double> wall, cpu;
  for (const auto& f : frames) {
    wall.push_back(f.wallMs);
    cpu.push_back(f.cpuMs);
  }
  char text[200];
  std::snprintf(text, sizeof text, "{\"median\": %.2f, \"p95\": %.2f, \"cpu_median\": %.2f, \"cpu_p95\": %.2f, \"frames\": %zu}",
                percentile(wall, 0.5), percentile(wall, 0.95), percentile(cpu, 0.5), percentile(cpu, 0.95), frames.size());
  return text;
}

}  // namespace

int main(int argc, char** argv) {
  QApplication app(argc, argv);
  std::vector<int64_t> sizes = {100000, 1000000};
  int frames = 60;
  for (int i = 1; i + 1 < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--cells") {
      sizes.clear();
      for (const QString& s : QString::fromLatin1(argv[++i]).split(QLatin1Char(','))) sizes.push_back(s.toLongLong());
    } else if (a == "--frames") {
      frames = std::atoi(argv[++i]);
    }
  }
  for (int64_t n : sizes) {
    cw::ui::Document document;
    cw::ui::JobQueue jobs;
    cw::ui::EmbeddingView view(&document, &jobs);
    view.resize(1200, 800);
    view.show();
    document.setDataset(syntheticEmbedding(n, 7), QStringLiteral("synthetic"), false);
    view.setEmbedding(QStringLiteral("X_umap"));
    view.setColorBy(QStringLiteral("cluster"));
    auto* canvas = view.canvas();
    FrameClock clock(canvas);
    for (int i = 0; i < 3; ++i) clock.frame(nullptr);  // first upload of the points
    QOpenGLContext* ctx = canvas->context();
    canvas->makeCurrent();
    const auto* renderer = reinterpret_cast<const char*>(ctx->functions()->glGetString(GL_RENDERER));
    const std::string rendererName = renderer ? renderer : "?";
    canvas->doneCurrent();

    const QPointF centre(canvas->width() / 2.0, canvas->height() / 2.0);
    std::vector<FrameTime> moving, panLod, zoomLod, rest;
    bool lodSeen = false;
    // Pan: press, `frames` moves of 4 px, release.
    QMouseEvent press(QEvent::MouseButtonPress, centre, canvas->mapToGlobal(centre), Qt::LeftButton, Qt::LeftButton, Qt::NoModifier);
    clock.frame(&press);
    for (int f = 0; f < frames; ++f) {
      const QPointF at = centre + QPointF(4.0 * (f + 1) * (f % 20 < 10 ? 1 : -1) / 4, 2.0 * (f % 7));
      QMouseEvent move(QEvent::MouseMove, at, canvas->mapToGlobal(at), Qt::NoButton, Qt::LeftButton, Qt::NoModifier);
      panLod.push_back(clock.frame(&move));
      lodSeen = lodSeen || view.isShowingLevelOfDetail();
    }
    QMouseEvent release(QEvent::MouseButtonRelease, centre, canvas->mapToGlobal(centre), Qt::LeftButton, Qt::NoButton, Qt::NoModifier);
    clock.frame(&release);
    // Zoom: wheel notches in and out about the centre.
    for (int f = 0; f < frames; ++f) {
      QWheelEvent wheel(centre, canvas->mapToGlobal(centre), QPoint(), QPoint(0, f % 20 < 10 ? 120 : -120), Qt::NoButton, Qt::NoModifier,
                        Qt::NoScrollPhase, false);
      zoomLod.push_back(clock.frame(&wheel));
      lodSeen = lodSeen || view.isShowingLevelOfDetail();
    }
    // Let the interaction settle (full resolution again), then full redraws at rest.
    QElapsedTimer settle;
    settle.start();
    while (settle.elapsed() < 400) QApplication::processEvents(QEventLoop::AllEvents, 50);
    const bool lodAtRest = view.isShowingLevelOfDetail();
    for (int f = 0; f < frames; ++f) rest.push_back(clock.frame(nullptr));
    moving = panLod;
    moving.insert(moving.end(), zoomLod.begin(), zoomLod.end());
    std::printf(
        "{\"cells\": %lld, \"renderer\": \"%s\", \"canvas\": [%d, %d], \"lod_threshold\": %lld, \"lod_cells\": %lld, "
        "\"lod_while_moving\": %s, \"lod_at_rest\": %s, \"moving_ms\": %s, \"pan_ms\": %s, \"zoom_ms\": %s, \"rest_ms\": %s}\n",
        static_cast<long long>(n), rendererName.c_str(), canvas->width(), canvas->height(),
        static_cast<long long>(cw::ui::EmbeddingView::kLodThreshold), static_cast<long long>(cw::ui::EmbeddingView::kLodCells),
        lodSeen ? "true" : "false", lodAtRest ? "true" : "false", stats(moving).c_str(), stats(panLod).c_str(),
        stats(zoomLod).c_str(), stats(rest).c_str());
    std::fflush(stdout);
  }
  return 0;
}
