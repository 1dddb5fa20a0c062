// The engine worker and job queue: ordering, throttled monotonic progress, thread
// affinity, cancellation at the next poll point, failures as signals, clean destruction.
#include <QSignalSpy>
#include <QtTest>

#include <atomic>
#include <mutex>
#include <thread>
#include <vector>

#include "cellwright/core/errors.h"
#include "cellwright/ui/job_queue.h"

using cw::ui::JobId;
using cw::ui::JobQueue;

class TestJobQueue : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  void runsJobsInQueueOrderOneAtATime();
  void progressIsThrottledAndMonotonic();
  void workRunsOnTheEngineThreadAndContinuationOnTheGuiThread();
  void cancelStopsARunningJobAtTheNextPollPoint();
  void cancelOfAQueuedJobNeverRunsIt();
  void throwingJobProducesFailedWithItsMessage();
  void destructionWhileAJobRunsIsClean();
};

void TestJobQueue::runsJobsInQueueOrderOneAtATime() {
  JobQueue queue;
  QSignalSpy finished(&queue, &JobQueue::jobFinished);
  std::mutex mutex;
  std::vector<int> order;
  std::atomic<int> running{0}, maxRunning{0};
  for (int i = 1; i <= 4; ++i) {
    queue.enqueue(QStringLiteral("job %1").arg(i), [&, i](cw::Feedback&) -> std::any {
      const int now = ++running;
      maxRunning = std::max(maxRunning.load(), now);
      std::this_thread::sleep_for(std::chrono::milliseconds(20 * (5 - i)));  // later jobs are faster
      {
        std::lock_guard<std::mutex> lock(mutex);
        order.push_back(i);
      }
      --running;
      return {};
    });
  }
  QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 4, 20000);
  QCOMPARE(order, (std::vector<int>{1, 2, 3, 4}));
  QCOMPARE(maxRunning.load(), 1);
  for (int i = 0; i < 4; ++i) QCOMPARE(finished.at(i).at(0).value<JobId>(), static_cast<JobId>(i + 1));
}

void TestJobQueue::progressIsThrottledAndMonotonic() {
  JobQueue queue;
  QSignalSpy progress(&queue, &JobQueue::jobProgress);
  QSignalSpy finished(&queue, &JobQueue::jobFinished);
  const int steps = 400;
  queue.enqueue(QStringLiteral("steps"), [&](cw::Feedback& fb) -> std::any {
    for (int s = 1; s <= steps; ++s) {
      std::this_thread::sleep_for(std::chrono::microseconds(500));
      fb.setProgress(static_cast<double>(s) / steps, "working");
    }
    return {};
  });
  QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 1, 20000);
  QVERIFY2(progress.count() >= 2, "expected several progress updates");
  QVERIFY2(progress.count() < steps / 4, qPrintable(QStringLiteral("not throttled: %1 signals").arg(progress.count())));
  double last = -1;
  for (const auto& args : progress) {
    const double f = args.at(1).toDouble();
    QVERIFY(f >= last);
    last = f;
  }
  QCOMPARE(last, 1.0);  // the final update always passes the throttle
}

void TestJobQueue::workRunsOnTheEngineThreadAndContinuationOnTheGuiThread() {
  JobQueue queue;
  QSignalSpy finished(&queue, &JobQueue::jobFinished);
  QThread* workThread = nullptr;
  QThread* continuationThread = nullptr;
  int received = 0;
  queue.enqueue(
      QStringLiteral("where"),
      [&](cw::Feedback&) -> std::any {
        workThread = QThread::currentThread();
        return 6 * 7;
      },
      [&](std::any& result) {
        continuationThread = QThread::currentThread();
        received = std::any_cast<int>(result);
      });
  QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 1, 10000);
  QCOMPARE(workThread, queue.engineThread());
  QVERIFY(workThread != QThread::currentThread());
  QCOMPARE(continuationThread, QThread::currentThread());
  QCOMPARE(received, 42);
}

void TestJobQueue::cancelStopsARunningJobAtTheNextPollPoint() {
  JobQueue queue;
  QSignalSpy started(&queue, &JobQueue::jobStarted);
  QSignalSpy canceled(&queue, &JobQueue::jobCanceled);
  QSignalSpy finished(&queue, &JobQueue::jobFinished);
  std::atomic<int> stepsDone{0};
  const JobId id = queue.enqueue(QStringLiteral("long"), [&](cw::Feedback& fb) -> std::any {
    for (int s = 0; s < 100000; ++s) {
      fb.throwIfCanceled();  // the poll point, once per "batch"
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
      ++stepsDone;
    }
    return {};
  });
  QTRY_COMPARE_WITH_TIMEOUT(started.count(), 1, 10000);
  QTRY_VERIFY_WITH_TIMEOUT(stepsDone.load() >= 5, 10000);
  const int atCancel = stepsDone.load();
  QVERIFY(queue.cancel(id));
  QTRY_COMPARE_WITH_TIMEOUT(canceled.count(), 1, 10000);
  // The step in flight when cancel arrived may finish; no further step starts.
  QVERIFY2(stepsDone.load() - atCancel <= 1, qPrintable(QStringLiteral("%1 steps after cancel").arg(stepsDone.load() - atCancel)));
  QCOMPARE(finished.count(), 0);
  QCOMPARE(canceled.at(0).at(0).value<JobId>(), id);
}

void TestJobQueue::cancelOfAQueuedJobNeverRunsIt() {
  JobQueue queue;
  QSignalSpy canceled(&queue, &JobQueue::jobCanceled);
  QSignalSpy done(&queue, &JobQueue::allJobsDone);
  std::atomic<bool> release{false}, secondRan{false};
  queue.enqueue(QStringLiteral("blocker"), [&](cw::Feedback&) -> std::any {
    while (!release) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    return {};
  });
  const JobId second = queue.enqueue(QStringLiteral("never"), [&](cw::Feedback&) -> std::any {
    secondRan = true;
    return {};
  });
  QVERIFY(queue.cancel(second));
  release = true;
  QTRY_COMPARE_WITH_TIMEOUT(done.count(), 1, 10000);
  QCOMPARE(canceled.count(), 1);
  QVERIFY(!secondRan);
}

void TestJobQueue::throwingJobProducesFailedWithItsMessage() {
  JobQueue queue;
  QSignalSpy failed(&queue, &JobQueue::jobFailed);
  QSignalSpy finished(&queue, &JobQueue::jobFinished);
  bool continuationRan = false;
  queue.enqueue(
      QStringLiteral("bad input"),
      [](cw::Feedback&) -> std::any { throw cw::Error("pbmc.h5ad: X has 3 columns but var has 4 genes\nstack..."); },
      [&](std::any&) { continuationRan = true; });
  // A later job still runs: one failure does not kill the engine thread.
  queue.enqueue(QStringLiteral("after"), [](cw::Feedback&) -> std::any { return {}; });
  QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 1, 10000);
  QCOMPARE(failed.count(), 1);
  QCOMPARE(failed.at(0).at(1).toString(), QStringLiteral("pbmc.h5ad: X has 3 columns but var has 4 genes"));
  QVERIFY(!continuationRan);
}

void TestJobQueue::destructionWhileAJobRunsIsClean() {
  auto* queue = new JobQueue;
  QSignalSpy started(queue, &JobQueue::jobStarted);
  std::atomic<bool> sawCancel{false}, continuationRan{false};
  queue->enqueue(
      QStringLiteral("endless"),
      [&](cw::Feedback& fb) -> std::any {
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
        while (std::chrono::steady_clock::now() < deadline) {
          if (fb.isCanceled()) {
            sawCancel = true;
            fb.throwIfCanceled();
          }
          std::this_thread::sleep_for(std::chrono::milliseconds(1));
        }
        return {};
      },
      [&](std::any&) { continuationRan = true; });
  QTRY_COMPARE_WITH_TIMEOUT(started.count(), 1, 10000);
  QElapsedTimer timer;
  timer.start();
  delete queue;  // cancels, joins the engine thread
  QVERIFY2(timer.elapsed() < 10000, "destruction waited for the job to run to its end");
  QVERIFY(sawCancel);
  QCoreApplication::processEvents();
  QVERIFY(!continuationRan);
}

QTEST_MAIN(TestJobQueue)
#include "test_job_queue.moc"
