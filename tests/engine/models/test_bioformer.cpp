#include <gtest/gtest.h>

#include <cmath>

#include "bioformer.h"
#include "model_test_support.h"

using namespace cw::plugins;

namespace {

std::shared_ptr<CellModel> tinyBioFormer(int64_t studies = 3, bool fusedKernels = true) {
  PluginRegistry registry;
  registerBuiltinPlugins(registry);
  nlohmann::json c = registry.plugin("bioformer").defaultConfig("small");
  c["fused_kernels"] = fusedKernels;
  c["dim"] = 16;
  c["heads"] = 2;
  c["ff_hidden"] = 32;
  c["classifier_hidden"] = 8;
  torch::manual_seed(5);
  auto model = registry.makeModel("bioformer", c, ModelShape{40, 3, studies, 0});
  model->eval();
  return model;
}

// CLS slot at 0, genes after it; masks positions 2 and 4 of every cell.
cw::tokenize::TokenBatch bioBatch(int64_t b, int64_t l) {
  auto batch = cw::test::tokenBatch(b, l, 40, 51);
  batch.maskedPositions = torch::zeros({b, l}, torch::kBool);
  batch.maskedPositions.select(1, 2).fill_(true);
  batch.maskedPositions.select(1, 4).fill_(true);
  batch.targetBins = torch::randint(0, 51, {b, l}, torch::kLong);
  batch.targetValues = torch::rand({b, l});
  return batch;
}

}  // namespace

TEST(BioFormer, GradientReversalFlipsGradientSign) {
  auto x = torch::tensor({1.0, -2.0, 3.0}, torch::dtype(torch::kDouble).requires_grad(true));
  auto w = torch::tensor({0.5, 4.0, -1.0}, torch::kDouble);
  auto y = gradientReversal(x, 0.3);
  EXPECT_TRUE(torch::equal(y, x));
  (y * w).sum().backward();
  EXPECT_TRUE(torch::allclose(x.grad(), -0.3 * w));
}

TEST(BioFormer, EcsMatchesHandComputedValue) {
  // d(0,1) = 5 (different: (6-5)² = 1), d(0,2) = 1 (same: 1), d(1,2) = √18 (different:
  // (6-√18)²); each pair twice, over N² = 9.
  auto h = torch::tensor({{0.0, 0.0}, {3.0, 4.0}, {0.0, 1.0}}, torch::kDouble);
  auto labels = torch::tensor({0, 1, 0}, torch::kLong);
  const double expected = 2 * (1.0 + 1.0 + std::pow(6 - std::sqrt(18.0), 2)) / 9.0;
  EXPECT_NEAR(ecsLoss(h, labels, 6.0).item<double>(), expected, 1e-12);
  // Unlabelled cells are left out.
  auto h4 = torch::cat({h, torch::tensor({{9.0, 9.0}}, torch::kDouble)});
  EXPECT_NEAR(ecsLoss(h4, torch::tensor({0, 1, 0, -1}, torch::kLong), 6.0).item<double>(), expected, 1e-12);
  // Gradients stay finite despite the zero self-distances.
  auto hg = h.clone().requires_grad_(true);
  ecsLoss(hg, labels, 6.0).backward();
  EXPECT_TRUE(torch::isfinite(hg.grad()).all().item<bool>());
  EXPECT_EQ(ecsLoss(h.narrow(0, 0, 1), labels.narrow(0, 0, 1), 6.0).item<double>(), 0.0);
}

TEST(BioFormer, LossesMatchHandComputedValues) {
  auto model = tinyBioFormer();
  auto batch = bioBatch(3, 7);
  const std::vector<float> binLogits = [] {
    std::vector<float> v(51);
    for (int i = 0; i < 51; ++i) v[i] = 0.1f * static_cast<float>(i % 7);
    return v;
  }();
  {
    // Heads with zero weights output their biases: the losses become hand-computable.
    torch::NoGradGuard noGrad;
    auto p = model->named_parameters();
    p["mlm_head.3.weight"].zero_();
    p["mlm_head.3.bias"].copy_(torch::tensor(binLogits));
    p["continuous_head.2.weight"].zero_();
    p["continuous_head.2.bias"].fill_(0.25);
    p["study_adversary.2.weight"].zero_();
    p["study_adversary.2.bias"].copy_(torch::tensor({0.0f, 1.0f, 2.0f}));
  }
  const PretrainLosses losses = model->pretrainLosses(batch);

  double logSumExp = 0;
  for (float v : binLogits) logSumExp += std::exp(static_cast<double>(v));
  logSumExp = std::log(logSumExp);
  double mlm = 0, cont = 0;
  int count = 0;
  for (int b = 0; b < 3; ++b)
    for (int pos : {2, 4}) {
      mlm += logSumExp - binLogits[batch.targetBins[b][pos].item<int64_t>()];
      cont += std::pow(0.25 - batch.targetValues[b][pos].item<double>(), 2);
      ++count;
    }
  mlm /= count;
  cont /= count;
  const double lse3 = std::log(std::exp(0.0) + std::exp(1.0) + std::exp(2.0));
  const double adversarial = ((lse3 - 0.0) + (lse3 - 1.0) + (lse3 - 2.0)) / 3.0;  // studies 0, 1, 2

  // ECS from the CLS embeddings, by the formula, in double.
  auto cls = model->embed(batch).to(torch::kDouble);
  double ecs = 0;
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 3; ++j) {
      const double d = (cls[i] - cls[j]).norm().item<double>();
      const bool same = batch.labels[i].item<int64_t>() == batch.labels[j].item<int64_t>();
      ecs += same ? d * d : std::pow(std::max(0.0, 1.0 - d), 2);
    }
  ecs /= 9.0;

  EXPECT_NEAR(losses.parts.at("mlm").item<double>(), mlm, 1e-5);
  EXPECT_NEAR(losses.parts.at("continuous").item<double>(), cont, 1e-5);
  EXPECT_NEAR(losses.parts.at("adversarial").item<double>(), adversarial, 1e-5);
  EXPECT_NEAR(losses.parts.at("ecs").item<double>(), ecs, 1e-4);
  EXPECT_NEAR(losses.total.item<double>(), mlm + 0.1 * cont + 0.1 * adversarial + 0.1 * ecs, 1e-4);
  EXPECT_EQ(losses.weights.at("mlm"), 1.0);
  EXPECT_EQ(losses.weights.at("ecs"), 0.1);
}

TEST(BioFormer, AdversarialGradientReachesEncoderReversed) {
  // The study head learns to predict the study, the encoder gets the opposite push: with
  // only the adversarial loss, the encoder gradient equals minus that of a plain head.
  auto model = tinyBioFormer();
  auto batch = bioBatch(4, 6);
  auto run = [&](double lambdaSign) {
    model->zero_grad();
    auto cls = model->embed(batch);
    auto p = model->named_parameters();
    torch::nn::Sequential adv = std::dynamic_pointer_cast<torch::nn::SequentialImpl>(
        model->named_children()["study_adversary"]);
    auto logits = adv->forward(lambdaSign < 0 ? gradientReversal(cls, 1.0) : cls);
    torch::nn::functional::cross_entropy(logits, batch.studies).backward();
    return std::make_pair(p["cls_token"].grad().clone(), p["study_adversary.2.weight"].grad().clone());
  };
  auto [encReversed, headReversed] = run(-1);
  auto [encPlain, headPlain] = run(1);
  EXPECT_TRUE(torch::allclose(encReversed, -encPlain, 1e-5, 1e-7));
  EXPECT_TRUE(torch::allclose(headReversed, headPlain, 1e-5, 1e-7));
  EXPECT_GT(encPlain.abs().sum().item<double>(), 0.0);
}

TEST(BioFormer, InvariantToPermutingGenesWithTheirEmbeddings) {
  auto model = tinyBioFormer();
  auto batch = bioBatch(2, 8);
  auto permutation = torch::cat({torch::zeros({1}, torch::kLong), torch::tensor({5, 2, 7, 1, 3, 6, 4}, torch::kLong)});
  auto permuted = batch;
  for (auto* field : {&permuted.geneIds, &permuted.values, &permuted.bins, &permuted.paddingMask})
    *field = field->index_select(1, permutation);
  EXPECT_TRUE(torch::allclose(model->embed(batch), model->embed(permuted), 1e-5, 1e-6));
  EXPECT_TRUE(torch::allclose(model->classify(batch), model->classify(permuted), 1e-5, 1e-6));
  auto att = model->attention(batch).scores, attPermuted = model->attention(permuted).scores;
  EXPECT_TRUE(torch::allclose(att.index_select(2, permutation), attPermuted, 1e-5, 1e-6));
  // Gene identity matters: swapping two genes' ids (not their values) changes the output.
  auto swapped = batch;
  swapped.geneIds = batch.geneIds.clone();
  swapped.geneIds.select(1, 1).copy_(batch.geneIds.select(1, 2));
  swapped.geneIds.select(1, 2).copy_(batch.geneIds.select(1, 1));
  EXPECT_FALSE(torch::allclose(model->embed(batch), model->embed(swapped), 1e-5, 1e-6));
}

TEST(BioFormer, ShapesAndClsIgnoresSlotContent) {
  auto model = tinyBioFormer();
  auto batch = bioBatch(3, 6);
  EXPECT_EQ(model->classify(batch).sizes(), (std::vector<int64_t>{3, 3}));
  EXPECT_EQ(model->embed(batch).sizes(), (std::vector<int64_t>{3, 16}));
  const auto att = model->attention(batch);
  EXPECT_EQ(att.scores.sizes(), (std::vector<int64_t>{3, 1, 6}));
  EXPECT_TRUE(torch::allclose(att.scores.sum(-1), torch::ones({3, 1}), 1e-5, 1e-5));
  auto other = batch;
  other.geneIds = batch.geneIds.clone();
  other.geneIds.select(1, 0).fill_(7);
  other.bins = batch.bins.clone();
  other.bins.select(1, 0).fill_(3);
  EXPECT_TRUE(torch::allclose(model->embed(batch), model->embed(other)));
  EXPECT_EQ(model->pretrainObjectives(), (std::vector<std::string>{"mlm", "continuous", "adversarial", "ecs"}));
}

TEST(BioFormer, StudyNoTrainingCellUsedAddsNothing) {
  // Fine-tuning on study 0 only (a batch split holding study 2 out): the held-out study's cells
  // must be encoded as cells of no known study, not shifted by an embedding row no gradient
  // ever reached, while the trained study's row has moved.
  auto model = tinyBioFormer();
  auto batch = bioBatch(6, 8);
  batch.studies = torch::zeros({6}, torch::kLong);
  const auto labels = torch::tensor({0, 1, 2, 0, 1, 2}, torch::kLong);
  torch::optim::Adam optimiser(model->parameters(), torch::optim::AdamOptions(1e-2));
  for (int step = 0; step < 5; ++step) {
    optimiser.zero_grad();
    torch::nn::functional::cross_entropy(model->classify(batch), labels).backward();
    optimiser.step();
  }
  auto heldOut = batch, unknown = batch;
  heldOut.studies = torch::full({6}, 2, torch::kLong);
  unknown.studies = torch::Tensor();
  torch::NoGradGuard noGrad;
  EXPECT_TRUE(torch::allclose(model->classify(heldOut), model->classify(unknown), 1e-6, 1e-7));
  EXPECT_FALSE(torch::allclose(model->classify(batch), model->classify(unknown), 1e-4, 1e-5));
  const auto rows = model->named_parameters()["study_embedding.weight"];
  EXPECT_EQ(rows[2].abs().sum().item<double>(), 0.0);
  EXPECT_GT(rows[0].abs().sum().item<double>(), 0.0);
}

TEST(BioFormer, FusedAndTorchStepsGiveTheSamePretraining) {
  // Same weights (same seed), dropout off: the fused block steps compute what torch's ops do.
  auto fusedModel = tinyBioFormer(3, true), plainModel = tinyBioFormer(3, false);
  ASSERT_TRUE(cw::test::allParametersEqual(*fusedModel, *plainModel));
  torch::manual_seed(6);
  const auto batch = bioBatch(4, 9);
  auto fusedLosses = fusedModel->pretrainLosses(batch), plainLosses = plainModel->pretrainLosses(batch);
  for (const auto& [name, value] : plainLosses.parts)
    EXPECT_NEAR(fusedLosses.parts.at(name).item<double>(), value.item<double>(), 1e-5 * (1 + std::abs(value.item<double>())))
        << name;
  fusedLosses.total.backward();
  plainLosses.total.backward();
  auto fusedParams = fusedModel->named_parameters();
  for (const auto& item : plainModel->named_parameters()) {
    if (!item.value().grad().defined()) continue;
    const auto& want = item.value().grad();
    EXPECT_LT((fusedParams[item.key()].grad() - want).norm().item<double>(), 1e-4 * (1 + want.norm().item<double>()))
        << item.key();
  }
  // Training mode: the fused steps' dropout repeats under a seed.
  fusedModel->train();
  torch::manual_seed(7);
  const double first = fusedModel->pretrainLosses(batch).total.item<double>();
  torch::manual_seed(7);
  EXPECT_EQ(fusedModel->pretrainLosses(batch).total.item<double>(), first);
}
