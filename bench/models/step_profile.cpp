#include "step_profile.h"

#include <torch/csrc/autograd/profiler_kineto.h>

#include <algorithm>
#include <chrono>
#include <iomanip>
#include <map>
#include <set>
#include <sstream>
#include <vector>

#include "bench_support.h"

namespace cw::bench {

namespace {

namespace profiler = torch::autograd::profiler;
using torch::profiler::impl::ActivityType;

// LibTorch 2.x reports nanoseconds where 1.13 reported microseconds.
template <typename Event>
double microsecondsOf(const Event& event) {
  if constexpr (requires { event.durationNs(); })
    return static_cast<double>(event.durationNs()) / 1000.0;
  else
    return static_cast<double>(event.durationUs());
}

struct Kernel {
  double microseconds = 0;
  int64_t calls = 0;
};

}  // namespace

std::string profileStep(const torch::Device& device, const std::string& title, const std::function<void()>& work,
                        int top) {
  const torch::profiler::impl::ProfilerConfig config(torch::profiler::impl::ProfilerState::KINETO);
  std::set<ActivityType> activities{ActivityType::CPU};
  if (device.is_cuda()) activities.insert(ActivityType::CUDA);
  synchronize(device);
  profiler::prepareProfiler(config, activities);
  profiler::enableProfiler(config, activities);
  const auto start = std::chrono::steady_clock::now();
  try {
    work();
    synchronize(device);
  } catch (...) {
    profiler::disableProfiler();
    throw;
  }
  const double wallMs = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  const auto result = profiler::disableProfiler();

  const auto kind = device.is_cuda() ? c10::DeviceType::CUDA : c10::DeviceType::CPU;
  std::map<std::string, Kernel> byName;
  double busyUs = 0;
  for (const auto& event : result->events()) {
    if (event.deviceType() != kind) continue;
    auto& k = byName[event.name()];
    k.microseconds += microsecondsOf(event);
    ++k.calls;
    busyUs += microsecondsOf(event);
  }
  std::vector<std::pair<std::string, Kernel>> kernels(byName.begin(), byName.end());
  std::sort(kernels.begin(), kernels.end(),
            [](const auto& a, const auto& b) { return a.second.microseconds > b.second.microseconds; });

  std::ostringstream out;
  out << std::fixed << std::setprecision(1) << "\n" << title << ": " << wallMs << " ms wall";
  if (device.is_cuda())
    out << ", kernels " << busyUs / 1000.0 << " ms (the GPU busy " << 100.0 * busyUs / 1000.0 / wallMs
        << "% of the time, streams summed), " << kernels.size() << " distinct kernels\n\n";
  else
    out << " (CPU ops: a nested op counts in its caller's time too)\n\n";
  out << "| " << (device.is_cuda() ? "kernel" : "op") << " | calls | ms | share |\n|---|---|---|---|\n";
  for (size_t i = 0; i < kernels.size() && i < static_cast<size_t>(top); ++i) {
    std::string name = kernels[i].first;
    if (name.size() > 100) name = name.substr(0, 97) + "...";
    std::replace(name.begin(), name.end(), '|', '/');  // a table cell
    out << "| " << name << " | " << kernels[i].second.calls << " | " << std::setprecision(2)
        << kernels[i].second.microseconds / 1000.0 << " | " << std::setprecision(1)
        << (busyUs > 0 ? 100.0 * kernels[i].second.microseconds / busyUs : 0.0) << "% |\n";
  }
  if (kernels.empty()) out << "| (the profiler recorded no events on this device) | | | |\n";
  return out.str();
}

}  // namespace cw::bench
