#include <gtest/gtest.h>

#include <ATen/CPUGeneratorImpl.h>

#include <optional>

#include "cellwright/compute/compat.h"
#include "cellwright/core/errors.h"
#include "cellwright/plugins/config_fields.h"
#include "model_test_support.h"
#include "screformer.h"

using namespace cw::plugins;
using cw::test::relativeError;

namespace {

at::Generator seeded(uint64_t seed) { return at::make_generator<at::CPUGeneratorImpl>(seed); }

ScReformerConfig tinyConfig() {
  ScReformerConfig c;
  c.dim = 16;
  c.layers = 2;
  c.heads = 2;
  c.dim_head = 8;
  c.ff_chunks = 3;
  c.bucket_size = 4;
  c.n_hashes = 2;
  c.head_hidden1 = 8;
  c.head_hidden2 = 4;
  return c;
}

std::shared_ptr<CellModel> tinyScReformer(nlohmann::json overrides = {}) {
  PluginRegistry registry;
  registerBuiltinPlugins(registry);
  nlohmann::json c = configToJson(tinyConfig());
  for (const auto& item : overrides.items()) c[item.key()] = item.value();
  torch::manual_seed(2022);
  auto model = registry.makeModel("screformer", c, ModelShape{30, 3, 0, 20});
  model->eval();
  return model;
}

}  // namespace

TEST(LshAttention, EqualsFullAttentionWhenSequenceFitsOneBucketPair) {
  torch::manual_seed(1);
  const int64_t n = 3, l = 16, d = 8;
  auto qk = torch::randn({n, l, d}, torch::kDouble);
  auto v = torch::randn({n, l, d}, torch::kDouble);
  auto padding = torch::zeros({n, l}, torch::kBool);
  padding[2].narrow(0, 12, 4).fill_(true);
  const lsh::LshOptions options{8, 3};
  auto rotations = lsh::randomRotations(d, options.nHashes, l / options.bucketSize, seeded(4), torch::kCPU, torch::kDouble);
  auto buckets = lsh::hashBuckets(qk, rotations);
  auto fast = lsh::lshAttention(qk, v, padding, buckets, options);
  auto exact = lsh::fullSharedQkAttention(qk, v, padding);
  EXPECT_LT((fast - exact).abs().max().item<double>(), 1e-5);
}

TEST(LshAttention, WithinFivePercentOnTightClustersWithEightRounds) {
  // 16 tight clusters of 8 keys, buckets (and chunks) of 32; every query points at its own
  // cluster, so full attention is the mean of the cluster mates' values, and LSH puts the
  // mates in one bucket. Rounds are combined over the union of the keys they saw
  // (duplicates counted once); counting a key once per round it appears in weights the
  // mates unevenly and is far off.
  torch::manual_seed(2);
  const int64_t clusters = 16, members = 8, d = 16, l = clusters * members, bucket = 32;
  auto centers = torch::nn::functional::normalize(torch::randn({clusters, d}, torch::kDouble),
                                                  torch::nn::functional::NormalizeFuncOptions().dim(-1));
  auto assignment = torch::arange(l, torch::kLong).remainder(clusters).index_select(0, torch::randperm(l, torch::kLong));
  auto qk = (centers.index_select(0, assignment) + 0.01 * torch::randn({l, d}, torch::kDouble)) * 64.0;
  qk = qk.unsqueeze(0);
  auto v = torch::randn({1, l, d}, torch::kDouble);
  auto exact = lsh::fullSharedQkAttention(qk, v, torch::Tensor());
  auto rotations = lsh::randomRotations(d, 8, l / bucket, seeded(9), torch::kCPU, torch::kDouble);
  auto buckets = lsh::hashBuckets(qk, rotations);
  const double error = relativeError(lsh::lshAttention(qk, v, torch::Tensor(), buckets, {bucket, 8, true}), exact);
  const double withDuplicates =
      relativeError(lsh::lshAttention(qk, v, torch::Tensor(), buckets, {bucket, 8, false}), exact);
  auto oneRound = lsh::hashBuckets(qk, rotations.narrow(1, 0, 1));
  const double single = relativeError(lsh::lshAttention(qk, v, torch::Tensor(), oneRound, {bucket, 1, true}), exact);
  std::cout << "LSH vs full attention on clustered keys: 8 rounds " << error << ", 1 round " << single
            << ", 8 rounds counting duplicates " << withDuplicates << "\n";
  EXPECT_LT(error, 0.05);
  EXPECT_GT(single, error);
  EXPECT_GT(withDuplicates, 0.05);
}

TEST(LshAttention, TokenAttendsToItselfOnlyWhenAlone) {
  // One real token among padding: its output is its own value.
  auto qk = torch::randn({1, 8, 4}, torch::kDouble);
  auto v = torch::randn({1, 8, 4}, torch::kDouble);
  auto padding = torch::ones({1, 8}, torch::kBool);
  padding[0][3] = false;
  auto rotations = lsh::randomRotations(4, 2, 2, seeded(1), torch::kCPU, torch::kDouble);
  auto out = lsh::lshAttention(qk, v, padding, lsh::hashBuckets(qk, rotations), {4, 2});
  EXPECT_TRUE(torch::allclose(out[0][3], v[0][3], 1e-9, 1e-9));
}

TEST(LshAttention, BucketIsArgmaxOverRotatedAndNegatedPerRound) {
  // The definition, written out: bucket = argmax([xR, −xR]) per round, offset by round.
  torch::manual_seed(4);
  const int64_t n = 3, l = 64, d = 8, rounds = 3, nBuckets = 8;
  auto qk = torch::randn({n, l, d});
  auto rotations = lsh::randomRotations(d, rounds, nBuckets, seeded(3), torch::kCPU, torch::kFloat);
  auto buckets = lsh::hashBuckets(qk, rotations).view({n, rounds, l});
  for (int64_t h = 0; h < rounds; ++h) {
    auto rotated = torch::matmul(qk, rotations.select(1, h));
    auto expected = torch::cat({rotated, -rotated}, -1).argmax(-1) + h * nBuckets;
    EXPECT_TRUE(torch::equal(buckets.select(1, h), expected)) << "round " << h;
  }
  EXPECT_EQ(buckets.min().item<int64_t>(), 0);
  EXPECT_LT(buckets.max().item<int64_t>(), rounds * nBuckets);
}

TEST(LshAttention, HashesInFullPrecisionUnderBf16Autocast) {
  // Under bf16 autocast the rotation would run in bf16 and move tokens whose two largest
  // rotated coordinates are close; the buckets must be those of the fp32 computation.
  torch::manual_seed(5);
  auto qk = torch::randn({8, 512, 16});
  auto rotations = lsh::randomRotations(16, 4, 64, seeded(6), torch::kCPU, torch::kFloat);
  auto argmaxBuckets = [&] {
    auto rotated = torch::einsum("btf,fhi->bhti", {qk, rotations});
    return std::make_pair(torch::cat({rotated, -rotated}, -1).argmax(-1), rotated.scalar_type());
  };
  auto fp32 = lsh::hashBuckets(qk, rotations);
  auto [plainFp32, fp32Type] = argmaxBuckets();
  cw::compat::AutocastGuard bf16(torch::kCPU, torch::kBFloat16, true);
  auto underAutocast = lsh::hashBuckets(qk, rotations);
  EXPECT_TRUE(cw::compat::autocastState(torch::kCPU).enabled) << "hashing must restore the autocast state";
  EXPECT_EQ(underAutocast.ne(fp32).sum().item<int64_t>(), 0);
  // The same product left to autocast runs in bf16 and does move tokens.
  auto [plainBf16, bf16Type] = argmaxBuckets();
  EXPECT_EQ(fp32Type, torch::kFloat);
  EXPECT_EQ(bf16Type, torch::kBFloat16);
  const auto moved = plainBf16.ne(plainFp32).sum().item<int64_t>();
  std::cout << "bf16 rotation moves " << moved << " of " << plainFp32.numel() << " bucket assignments\n";
  EXPECT_GT(moved, 0);
}

TEST(LshAttention, BucketTapeReplaysRecordedAssignments) {
  // In training mode every call draws new rotations, so two forward passes differ unless
  // the second replays the first one's buckets.
  auto model = tinyScReformer({{"dropout", 0.0}, {"head_dropout", 0.0}});
  model->train();
  torch::manual_seed(8);
  auto batch = cw::test::tokenBatch(3, 20, 30, 7, {0, 5, 0});
  torch::NoGradGuard noGrad;
  std::vector<torch::Tensor> recorded;
  torch::Tensor first;
  {
    lsh::BucketTape record;
    first = model->classify(batch);
    recorded = record.tape();
  }
  ASSERT_EQ(recorded.size(), static_cast<size_t>(tinyConfig().layers));
  auto unpinned = model->classify(batch);
  EXPECT_FALSE(torch::equal(unpinned, first));
  lsh::BucketTape replay(recorded);
  auto pinned = model->classify(batch);
  EXPECT_TRUE(torch::equal(pinned, first));
  EXPECT_EQ(replay.replayedAssignments(), recorded[0].numel() * 2);
  EXPECT_GT(replay.differingAssignments(), 0);  // fresh rotations would have moved tokens
  EXPECT_THROW(model->classify(batch), cw::Error);  // the tape holds one pass only
}

TEST(Reversible, Bf16AutocastAgreesWithFp32WhenBucketsArePinned) {
  // What bench/gpu.sh checks on CUDA, here under CPU bf16 autocast: the reversible backward
  // recomputes under the forward's autocast state, with the forward's buckets. For both LSH
  // formulations: the fused loops read bf16 and sum in fp32, the torch one multiplies in bf16.
  for (bool fusedKernels : {true, false}) {
    auto model = tinyScReformer({{"fused_kernels", fusedKernels}});
    torch::manual_seed(9);
    auto batch = cw::test::tokenBatch(4, 20, 30, 7, {0, 3, 0, 8});
    auto run = [&](bool bf16) {
      model->zero_grad();
      torch::Tensor logits;
      {
        cw::compat::AutocastGuard guard(torch::kCPU, torch::kBFloat16, bf16);
        logits = model->classify(batch).to(torch::kFloat);
      }
      // Backward outside the autocast region, as PyTorch recommends.
      torch::nn::functional::cross_entropy(logits, batch.labels).backward();
      std::vector<torch::Tensor> grads;
      for (auto& p : model->parameters())
        if (p.grad().defined()) grads.push_back(p.grad().flatten().clone());
      return std::make_pair(logits.detach(), torch::cat(grads));
    };
    std::vector<torch::Tensor> fp32Buckets;
    auto [out32, grad32] = [&] {
      lsh::BucketTape record;
      auto result = run(false);
      fp32Buckets = record.tape();
      return result;
    }();
    lsh::BucketTape replay(fp32Buckets);
    auto [out16, grad16] = run(true);
    EXPECT_TRUE(torch::isfinite(grad16).all().item<bool>());
    EXPECT_LT(relativeError(out16, out32), 0.05);
    std::cout << (fusedKernels ? "fused" : "torch") << " LSH, bf16 vs fp32: output " << relativeError(out16, out32)
              << ", gradients " << relativeError(grad16, grad32) << "\n";
    EXPECT_LT(relativeError(grad16, grad32), 0.15);
    EXPECT_GT(relativeError(grad16, grad32), 0.0) << "the bf16 run must really run in bf16";
  }
}

TEST(Reversible, RecomputesUnderTheForwardsAutocastState) {
  // Forward under CPU bf16 autocast, backward outside it: the reversible stack's gradients
  // must be those of ordinary autograd through the same bf16 forward, which a recomputation
  // in fp32 would miss by bf16's rounding.
  torch::manual_seed(9);
  auto batch = cw::test::tokenBatch(4, 20, 30, 7, {0, 3, 0, 8});
  std::vector<torch::Tensor> buckets;
  auto gradients = [&](CellModel& model, bool record) {
    std::optional<lsh::BucketTape> tape;
    if (record) tape.emplace(); else tape.emplace(buckets);
    torch::Tensor logits;
    {
      cw::compat::AutocastGuard guard(torch::kCPU, torch::kBFloat16, true);
      logits = model.classify(batch).to(torch::kFloat);
    }
    torch::nn::functional::cross_entropy(logits, batch.labels).backward();
    if (record) buckets = tape->tape();
    std::vector<torch::Tensor> grads;
    for (auto& p : model.parameters())
      if (p.grad().defined()) grads.push_back(p.grad().flatten().clone());
    return torch::cat(grads);
  };
  auto reversible = tinyScReformer();
  auto ordinary = tinyScReformer({{"reversible", false}});
  auto viaRecomputation = gradients(*reversible, true);
  auto viaAutograd = gradients(*ordinary, false);
  const double error = relativeError(viaRecomputation, viaAutograd);
  std::cout << "reversible vs ordinary gradients under bf16 autocast: " << error << "\n";
  EXPECT_LT(error, 1e-6);  // 1.7e-4 when the recomputation ran in fp32
}

TEST(Reversible, SameGradientsAsOrdinaryResidualInDouble) {
  for (bool training : {false, true}) {
    ScReformerConfig c = tinyConfig();
    c.dropout = training ? 0.1 : 0.0;
    torch::manual_seed(3);
    ReversibleStack reversible(c), ordinary(c);
    {
      torch::NoGradGuard noGrad;
      auto src = reversible->named_parameters();
      for (auto& item : ordinary->named_parameters()) item.value().copy_(src[item.key()]);
    }
    reversible->to(torch::kDouble);
    ordinary->to(torch::kDouble);
    reversible->train(training);
    ordinary->train(training);
    auto x = torch::randn({2, 16, c.dim}, torch::kDouble);
    auto padding = torch::zeros({2, 16}, torch::kBool);
    padding[1].narrow(0, 10, 6).fill_(true);
    auto target = torch::randn({2, 16, c.dim}, torch::kDouble);

    auto run = [&](ReversibleStack& stack, bool useReversible) {
      auto input = x.clone().requires_grad_(true);
      torch::manual_seed(77);  // same dropout masks in both runs
      auto out = stack->forward(input, padding, useReversible);
      (out * target).sum().backward();
      return std::make_pair(out.detach(), input.grad());
    };
    auto [outRev, gradRev] = run(reversible, true);
    auto [outOrd, gradOrd] = run(ordinary, false);
    EXPECT_LT(relativeError(outRev, outOrd), 1e-10) << "training " << training;
    EXPECT_LT(relativeError(gradRev, gradOrd), 1e-6) << "training " << training;
    auto ordParams = ordinary->named_parameters();
    for (const auto& item : reversible->named_parameters()) {
      ASSERT_TRUE(item.value().grad().defined()) << item.key();
      EXPECT_LT(relativeError(item.value().grad(), ordParams[item.key()].grad()), 1e-6) << item.key();
    }
  }
}

TEST(Reversible, KeepsOnlyTheStackOutputForBackward) {
  // The reversible path's graph holds one node for the whole stack; the ordinary path holds
  // every layer's activations (many nodes).
  ScReformerConfig c = tinyConfig();
  ReversibleStack stack(c);
  auto x = torch::randn({1, 8, c.dim}).requires_grad_(true);
  auto countNodes = [](const torch::Tensor& out) {
    std::set<torch::autograd::Node*> seen;
    std::vector<torch::autograd::Node*> todo{out.grad_fn().get()};
    while (!todo.empty()) {
      auto* node = todo.back();
      todo.pop_back();
      if (!node || !seen.insert(node).second) continue;
      for (const auto& edge : node->next_edges()) todo.push_back(edge.function.get());
    }
    return seen.size();
  };
  const size_t reversibleNodes = countNodes(stack->forward(x, torch::Tensor(), true));
  const size_t ordinaryNodes = countNodes(stack->forward(x, torch::Tensor(), false));
  EXPECT_LT(reversibleNodes * 5, ordinaryNodes) << reversibleNodes << " vs " << ordinaryNodes;
}

TEST(ScReformer, ShapesPaddingAndInternalBucketPadding) {
  auto model = tinyScReformer();
  auto batch = cw::test::tokenBatch(2, 20, 30, 7, {0, 5});  // padded to 24 (2 x bucket) inside
  EXPECT_EQ(model->classify(batch).sizes(), (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(model->embed(batch).sizes(), (std::vector<int64_t>{2, 16}));
  const auto att = model->attention(batch);
  EXPECT_EQ(att.scores.sizes(), (std::vector<int64_t>{2, 1, 20}));
  EXPECT_TRUE(torch::allclose(att.scores.sum(-1), torch::ones({2, 1}), 1e-5, 1e-5));
  EXPECT_EQ(att.scores[1][0].narrow(0, 15, 5).abs().max().item<float>(), 0.0f);
  auto odd = cw::test::tokenBatch(2, 26, 30, 7);  // more genes than the head's 20: only 20 classified
  EXPECT_EQ(model->classify(odd).sizes(), (std::vector<int64_t>{2, 3}));

  batch.maskedPositions = torch::zeros({2, 20}, torch::kBool);
  batch.maskedPositions.select(1, 3).fill_(true);
  batch.targetBins = torch::randint(0, 6, {2, 20}, torch::kLong);
  model->train();
  auto losses = model->pretrainLosses(batch);
  EXPECT_TRUE(std::isfinite(losses.total.item<double>()));
  losses.total.backward();
  EXPECT_TRUE(model->named_parameters()["gene_embedding.weight"].grad().defined());
}

TEST(ScReformer, FixedSeedGivesIdenticalOutputs) {
  auto a = tinyScReformer();
  auto b = tinyScReformer();
  EXPECT_TRUE(cw::test::allParametersEqual(*a, *b));
  auto batch = cw::test::tokenBatch(2, 20, 30, 7);
  EXPECT_TRUE(torch::equal(a->classify(batch), b->classify(batch)));
  EXPECT_TRUE(torch::equal(a->classify(batch), a->classify(batch)));  // inference hashing is fixed
  // Training draws fresh rotations from a seeded generator: equal across equal models.
  a->train();
  b->train();
  torch::manual_seed(8);
  auto ta = a->embed(batch);
  torch::manual_seed(8);
  auto tb = b->embed(batch);
  EXPECT_TRUE(torch::equal(ta, tb));
}

TEST(ScReformer, FullEncoderVariantAndGeneEmbeddingInit) {
  auto model = tinyScReformer({{"encoder", "full"}});
  auto batch = cw::test::tokenBatch(2, 20, 30, 7, {0, 4});
  EXPECT_EQ(model->classify(batch).sizes(), (std::vector<int64_t>{2, 3}));
  const auto att = model->attention(batch);
  EXPECT_TRUE(torch::allclose(att.scores.sum(-1), torch::ones({2, 1}), 1e-5, 1e-5));
  // Full attention ignores padding exactly.
  auto padded = cw::test::withExtraPadding(batch, 6);
  EXPECT_TRUE(torch::allclose(model->embed(batch), model->embed(padded), 1e-5, 1e-6));

  ASSERT_TRUE(model->acceptsGeneEmbeddings());
  auto table = torch::randn({30, 16});
  model->setGeneEmbeddings(table, true);
  auto weight = model->named_parameters(true)["gene_embedding.weight"];
  EXPECT_TRUE(torch::equal(weight.narrow(0, 1, 29), table.narrow(0, 1, 29)));
  EXPECT_FALSE(weight.requires_grad());
  EXPECT_THROW(model->setGeneEmbeddings(torch::randn({30, 15}), false), cw::Error);
}

TEST(ScReformer, EncoderTrainsWithFrozenEmbeddings) {
  auto model = tinyScReformer();
  model->train();
  auto params = model->named_parameters();
  params["gene_embedding.weight"].set_requires_grad(false);
  params["bin_embedding.weight"].set_requires_grad(false);
  auto batch = cw::test::tokenBatch(2, 20, 30, 7);
  batch.labels = torch::tensor({0, 2}, torch::kLong);
  torch::nn::functional::cross_entropy(model->classify(batch), batch.labels).backward();
  auto grad = params["encoder.attention0.v.weight"].grad();
  ASSERT_TRUE(grad.defined());
  EXPECT_GT(grad.abs().sum().item<double>(), 0.0);
}

TEST(ScReformer, FusedAndTorchLshFormulationsGiveTheSameTraining) {
  // The whole model in double, training mode (fresh rotations from the seeded generator,
  // reversible backward), with padding: logits and every parameter's gradient.
  auto batch = cw::test::tokenBatch(2, 20, 30, 7, {0, 5});
  batch.labels = torch::tensor({0, 2}, torch::kLong);
  auto step = [&](bool fusedKernels) {
    auto model = tinyScReformer({{"fused_kernels", fusedKernels}});
    model->to(torch::kDouble);
    model->train();
    auto logits = model->classify(batch);
    torch::nn::functional::cross_entropy(logits, batch.labels).backward();
    return std::make_pair(logits.detach(), model);
  };
  auto [fusedLogits, fusedModel] = step(true);
  auto [torchLogits, torchModel] = step(false);
  EXPECT_LT(relativeError(fusedLogits, torchLogits), 1e-10);
  auto reference = torchModel->named_parameters();
  int compared = 0;
  for (const auto& item : fusedModel->named_parameters()) {
    const auto& expected = reference[item.key()].grad();
    ASSERT_EQ(item.value().grad().defined(), expected.defined()) << item.key();  // the MLM head gets none
    if (!expected.defined()) continue;
    EXPECT_LT(relativeError(item.value().grad(), expected), 1e-8) << item.key();
    compared += item.key().find("encoder.attention") == 0 ? 1 : 0;
  }
  EXPECT_EQ(compared, 2 * 6);  // per layer: norm weight and bias, qk, v, out weight and bias
}
