#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>

#include "cellwright/core/errors.h"
#include "cellwright/train/distributed.h"
#include "ddp_common.h"

extern char** environ;

using namespace cw::train;
using namespace cw::train::testing;

namespace {

[[maybe_unused]] int freeLoopbackPort() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

[[maybe_unused]] pid_t spawnWorker(int rank, int port, const std::string& prefix) {
  std::vector<std::string> env = {"RANK=" + std::to_string(rank), "WORLD_SIZE=2", "MASTER_ADDR=127.0.0.1",
                                  "MASTER_PORT=" + std::to_string(port), "OMP_NUM_THREADS=1"};
  for (char** e = environ; *e; ++e) {
    const std::string entry = *e;
    if (entry.rfind("RANK=", 0) && entry.rfind("WORLD_SIZE=", 0) && entry.rfind("MASTER_", 0)) env.push_back(entry);
  }
  std::vector<char*> envp, argv;
  for (auto& e : env) envp.push_back(e.data());
  envp.push_back(nullptr);
  std::string exe = CELLWRIGHT_DDP_WORKER, out = prefix;
  argv = {exe.data(), out.data(), nullptr};
  pid_t pid = 0;
  if (posix_spawn(&pid, exe.c_str(), nullptr, nullptr, argv.data(), envp.data()) != 0) return -1;
  return pid;
}

}  // namespace

TEST(Distributed, ShardsInterleaveTheGlobalBatch) {
  const std::vector<int64_t> batch = {10, 11, 12, 13, 14};
  EXPECT_EQ(shardForRank(batch, 0, 2), (std::vector<int64_t>{10, 12, 14}));
  EXPECT_EQ(shardForRank(batch, 1, 2), (std::vector<int64_t>{11, 13}));
}

TEST(Distributed, EnvironmentIsValidated) {
  ::setenv("WORLD_SIZE", "2", 1);
  ::setenv("RANK", "2", 1);
  EXPECT_THROW(distributedOptionsFromEnvironment(), cw::Error);
  ::setenv("RANK", "one", 1);
  EXPECT_THROW(distributedOptionsFromEnvironment(), cw::Error);
  ::unsetenv("WORLD_SIZE");
  ::unsetenv("RANK");
  EXPECT_EQ(distributedOptionsFromEnvironment().worldSize, 1);
}

#if CELLWRIGHT_HAS_GLOO
TEST(Distributed, TwoGlooProcessesMatchOneProcessWithTheSameGlobalBatch) {
  const auto prefix = (std::filesystem::temp_directory_path() / ("cw_ddp_" + std::to_string(::getpid()))).string();
  const int port = freeLoopbackPort();
  const pid_t a = spawnWorker(0, port, prefix), b = spawnWorker(1, port, prefix);
  ASSERT_GT(a, 0);
  ASSERT_GT(b, 0);
  int statusA = 0, statusB = 0;
  ::waitpid(a, &statusA, 0);
  ::waitpid(b, &statusB, 0);
  ASSERT_TRUE(WIFEXITED(statusA) && WEXITSTATUS(statusA) == 0);
  ASSERT_TRUE(WIFEXITED(statusB) && WEXITSTATUS(statusB) == 0);
  std::vector<torch::Tensor> rank0, rank1;
  torch::load(rank0, prefix + ".rank0.pt");
  torch::load(rank1, prefix + ".rank1.pt");
  EXPECT_TRUE(bitwiseEqual(rank0, rank1));
  const auto single = trainForDdpTest(nullptr);
  EXPECT_LT(maxAbsDifference(rank0, single), 1e-6);
  // The weights did move: the comparison is not between two untouched initialisations.
  TinyClassifier untouched(21, 0.0);
  EXPECT_GT(maxAbsDifference(weightsOf(untouched.module()), single), 1e-2);
  std::filesystem::remove(prefix + ".rank0.pt");
  std::filesystem::remove(prefix + ".rank1.pt");
}
#endif
