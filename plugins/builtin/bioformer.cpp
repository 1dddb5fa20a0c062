// BioFormer: a 12-layer post-norm transformer over 1,000 HVG tokens (gene + value + study
// embeddings, no positions) with a real prepended learned [CLS] token, trained with MLM,
// continuous regression, an adversarial study head behind gradient reversal and the ECS loss.
// Differences from the public code (no CLS there, label leak, GRL cancelled): docs/models.md.
#include "bioformer.h"

#include "cellwright/plugins/builtin.h"
#include "cellwright/plugins/config_fields.h"
#include "cellwright/plugins/model_support.h"
#include "layers.h"

namespace cw::plugins {

namespace {

using cw::tokenize::TokenBatch;

struct GradReverse : public torch::autograd::Function<GradReverse> {
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& x, double lambda) {
    ctx->saved_data["lambda"] = lambda;
    return x.clone();
  }
  static torch::autograd::tensor_list backward(torch::autograd::AutogradContext* ctx,
                                               torch::autograd::tensor_list grads) {
    const double lambda = ctx->saved_data["lambda"].toDouble();
    return {grads[0] * -lambda, torch::Tensor()};
  }
};

void checkConfig(const BioFormerConfig& c) {
  if (c.dim <= 0 || c.layers <= 0 || c.heads <= 0 || c.ff_hidden <= 0 || c.n_bins < 2 || c.n_hvg <= 0 ||
      c.classifier_hidden <= 0)
    throw cw::Error("BioFormer sizes must be positive (and n_bins at least 2)");
  if (c.dim % c.heads != 0) throw cw::Error("BioFormer 'dim' must be divisible by 'heads'");
  if (c.dropout < 0 || c.dropout >= 1) throw cw::Error("BioFormer 'dropout' must be in [0, 1)");
  if (c.mask_fraction <= 0 || c.mask_fraction >= 1) throw cw::Error("BioFormer 'mask_fraction' must be in (0, 1)");
}

class BioFormerModel : public CellModel {
 public:
  BioFormerModel(const nlohmann::json& json, const ModelShape& shape)
      : CellModel("bioformer", json, shape), c_(configFromJson(json, BioFormerConfig{}, "bioformer")) {
    checkConfig(c_);
    if (shape.vocabSize <= 1) throw cw::Error("The BioFormer model needs a gene vocabulary");
    genes_ = register_module("gene_embedding",
                             torch::nn::Embedding(torch::nn::EmbeddingOptions(shape.vocabSize, c_.dim).padding_idx(0)));
    values_ = register_module("value_embedding", torch::nn::Embedding(c_.n_bins + 2, c_.dim));
    // One row per study plus one for "unknown study" (new data at inference). Zero at the start:
    // a row no training cell used (a held-out study, or "unknown" when every study is known)
    // then adds nothing, instead of a random N(0, 1) shift of every token of that study's cells
    // (which sent cross-study accuracy to 0.12: docs/models.md).
    studies_ = register_module("study_embedding", torch::nn::Embedding(shape.nStudies + 1, c_.dim));
    {
      torch::NoGradGuard noGrad;
      studies_->weight.zero_();
    }
    cls_ = register_parameter("cls_token", torch::randn({c_.dim}) * 0.02);
    for (int64_t i = 0; i < c_.layers; ++i)
      blocks_.push_back(register_module("layer" + std::to_string(i),
                                        layers::TransformerBlock(c_.dim, c_.heads, c_.ff_hidden, c_.dropout,
                                                                                 c_.fused_kernels)));
    mlm_ = register_module("mlm_head", torch::nn::Sequential(torch::nn::Linear(c_.dim, c_.dim), torch::nn::GELU(),
                                                             torch::nn::LayerNorm(torch::nn::LayerNormOptions({c_.dim})),
                                                             torch::nn::Linear(c_.dim, c_.n_bins)));
    continuous_ = register_module("continuous_head", torch::nn::Sequential(torch::nn::Linear(c_.dim, c_.dim),
                                                                           torch::nn::GELU(), torch::nn::Linear(c_.dim, 1)));
    if (shape.nStudies > 1)
      adversary_ = register_module("study_adversary", torch::nn::Sequential(torch::nn::Linear(c_.dim, c_.dim),
                                                                            torch::nn::ReLU(),
                                                                            torch::nn::Linear(c_.dim, shape.nStudies)));
    if (shape.nClasses > 0) {
      head1_ = register_module("classifier1", torch::nn::Linear(c_.dim, c_.classifier_hidden));
      head2_ = register_module("classifier2", torch::nn::Linear(c_.classifier_hidden, shape.nClasses));
    }
  }

  std::vector<std::string> pretrainObjectives() const override {
    return {"mlm", "continuous", "adversarial", "ecs"};
  }

  PretrainLosses pretrainLosses(const TokenBatch& batch) override {
    const auto& masked = requireField(batch.maskedPositions, "maskedPositions", 2, pluginName());
    const auto& targetBins = requireField(batch.targetBins, "targetBins", 2, pluginName());
    const auto& targetValues = requireField(batch.targetValues, "targetValues", 2, pluginName());
    auto hidden = encode(batch, nullptr);
    auto cls = hidden.select(1, 0);
    // Heads only where the losses need them: the masked positions.
    auto maskedNoCls = masked.clone();
    maskedNoCls.select(1, 0).fill_(false);
    auto selected = hidden.index({maskedNoCls});
    if (selected.size(0) == 0) throw cw::Error("BioFormer pre-training batch has no masked genes");
    auto logits = mlmLogits(selected).to(torch::kFloat);
    auto mlm = torch::nn::functional::cross_entropy(logits, targetBins.index({maskedNoCls}));
    auto predicted = continuous_->forward(selected).squeeze(-1).to(torch::kFloat);
    auto continuous = (predicted - targetValues.index({maskedNoCls}).to(torch::kFloat)).pow(2).mean();

    torch::Tensor adversarial = cls.sum() * 0.0;
    if (adversary_ && batch.studies.defined()) {
      auto known = batch.studies.ge(0);
      if (known.any().item<bool>()) {
        auto studyLogits = adversary_->forward(gradientReversal(cls.index({known}), c_.grl_lambda)).to(torch::kFloat);
        adversarial = torch::nn::functional::cross_entropy(studyLogits, batch.studies.index({known}));
      }
    }
    torch::Tensor ecs = cls.sum() * 0.0;
    if (batch.labels.defined()) ecs = ecsLoss(cls.to(torch::kFloat), batch.labels, c_.ecs_margin);

    PretrainLosses out;
    out.parts = {{"mlm", mlm}, {"continuous", continuous}, {"adversarial", adversarial}, {"ecs", ecs}};
    out.weights = {{"mlm", c_.weight_mlm}, {"continuous", c_.weight_continuous},
                   {"adversarial", c_.weight_adversarial}, {"ecs", c_.weight_ecs}};
    out.total = c_.weight_mlm * mlm + c_.weight_continuous * continuous + c_.weight_adversarial * adversarial +
                c_.weight_ecs * ecs;
    return out;
  }

  torch::Tensor classify(const TokenBatch& batch) override {
    requireClasses(shape(), pluginName());
    auto cls = encode(batch, nullptr).select(1, 0);
    return head2_(torch::dropout(torch::relu(head1_(cls)), c_.dropout, is_training()));
  }
  torch::Tensor embed(const TokenBatch& batch) override { return encode(batch, nullptr).select(1, 0); }
  int64_t embeddingDim() const override { return c_.dim; }

  // Last layer's attention from CLS to each gene, mean over heads, renormalised over genes.
  AttentionScores attention(const TokenBatch& batch) override {
    torch::Tensor weights;
    encode(batch, &weights);
    auto fromCls = weights.select(2, 0).mean(1);  // [B, L]
    fromCls.select(1, 0).zero_();
    fromCls = fromCls / fromCls.sum(1, true).clamp_min(1e-12);
    return {fromCls.unsqueeze(1), "cls"};
  }

  bool acceptsGeneEmbeddings() const override { return true; }
  void setGeneEmbeddings(const torch::Tensor& table, bool freeze) override {
    torch::NoGradGuard noGrad;
    if (table.sizes() != genes_->weight.sizes())
      throw cw::Error("Gene embedding table has shape " + c10::str(table.sizes()) + ", BioFormer needs " +
                      c10::str(genes_->weight.sizes()));
    genes_->weight.copy_(table);
    genes_->weight[0].zero_();
    genes_->weight.set_requires_grad(!freeze);
  }
  std::vector<torch::Tensor> classifierParameters() override {
    std::vector<torch::Tensor> out;
    for (auto* m : {&head1_, &head2_})
      if (*m) for (auto& p : (*m)->parameters()) out.push_back(p);
    return out;
  }

 private:
  // Linear, GELU, LayerNorm, Linear. The LayerNorm gets its input in its own dtype: CPU
  // autocast (LibTorch 1.13) does not cast layer_norm and refuses bf16 input with fp32 weights.
  torch::Tensor mlmLogits(const torch::Tensor& x) {
    auto h = torch::gelu(mlm_->ptr<torch::nn::LinearImpl>(0)->forward(x));
    auto norm = mlm_->ptr<torch::nn::LayerNormImpl>(2);
    h = norm->forward(h.to(norm->weight.scalar_type()));
    return mlm_->ptr<torch::nn::LinearImpl>(3)->forward(h);
  }

  // Final hidden states [B, L, dim]; position 0 is the CLS token.
  torch::Tensor encode(const TokenBatch& batch, torch::Tensor* lastWeights) {
    const auto& ids = requireField(batch.geneIds, "geneIds", 2, pluginName());
    const auto& bins = requireField(batch.bins, "bins", 2, pluginName());
    if (ids.size(1) < 2) throw cw::Error("BioFormer input needs the CLS slot and at least one gene");
    auto padding = batch.paddingMask.defined() ? batch.paddingMask.clone() : ids.eq(0);
    padding.select(1, 0).fill_(false);  // the CLS slot is never padding
    const int64_t b = ids.size(0);
    torch::Tensor study;
    if (batch.studies.defined()) {
      auto codes = batch.studies.clone();
      codes.masked_fill_(codes.lt(0).logical_or(codes.ge(shape().nStudies)), shape().nStudies);
      study = studies_(codes);
    } else {
      study = studies_(torch::full({b}, shape().nStudies, ids.options()));
    }
    // The CLS slot carries only the learned CLS vector (the tokenizer's id and value there are
    // ignored): gene tokens are embedded from position 1 on and the CLS vector put in front.
    const int64_t genes = ids.size(1) - 1;
    auto tokens = genes_(ids.narrow(1, 1, genes)) + values_(bins.narrow(1, 1, genes).clamp(0, c_.n_bins + 1)) +
                  study.unsqueeze(1);
    layers::Residual x{torch::cat({cls_.view({1, 1, c_.dim}).expand({b, 1, c_.dim}).to(tokens.scalar_type()), tokens}, 1),
                       {}};
    // Fixed gene panels rarely pad: without a mask the fused attention kernels apply.
    if (!padding.any().item<bool>()) padding = torch::Tensor();
    for (size_t i = 0; i < blocks_.size(); ++i)
      x = blocks_[i]->forwardResidual(x, torch::Tensor(), padding, i + 1 == blocks_.size() ? lastWeights : nullptr);
    return x.value;
  }

  BioFormerConfig c_;
  torch::nn::Embedding genes_{nullptr}, values_{nullptr}, studies_{nullptr};
  torch::Tensor cls_;
  std::vector<layers::TransformerBlock> blocks_;
  torch::nn::Sequential mlm_{nullptr}, continuous_{nullptr}, adversary_{nullptr};
  torch::nn::Linear head1_{nullptr}, head2_{nullptr};
};

class BioFormerPlugin : public ModelPlugin {
 public:
  PluginMetadata metadata() const override {
    PluginMetadata m;
    m.name = "bioformer";
    m.version = "1.0.0";
    m.description = "BioFormer: transformer with CLS token, study embedding, MLM + regression + GRL + ECS losses";
    m.citation = "BioFormer: a scalable transformer foundation model for single-cell transcriptomics";
    return m;
  }
  nlohmann::json defaultConfig(const std::string& preset) const override {
    requirePreset(preset, "bioformer");
    BioFormerConfig c;
    if (preset == "small") {
      c.dim = 64;
      c.layers = 2;
      c.heads = 4;
      c.ff_hidden = 128;
      c.n_hvg = 500;
      c.classifier_hidden = 64;
    }
    return configToJson(c);
  }
  nlohmann::json normalizeConfig(const nlohmann::json& config) const override {
    auto c = configFromJson(config, BioFormerConfig{}, "bioformer");
    checkConfig(c);
    return configToJson(c);
  }
  std::map<std::string, std::string> configDocumentation() const override {
    return {{"dim", "hidden width (paper 512; small 64)"},
            {"layers", "encoder layers (paper 12; small 2)"},
            {"heads", "attention heads (paper 8; small 4)"},
            {"ff_hidden", "feed-forward width (paper 2048; small 128)"},
            {"dropout", "dropout (paper 0.1)"},
            {"n_bins", "per-cell quantile value bins incl. bin 0 for zero (paper 51)"},
            {"n_hvg", "highly variable genes per cell, fixed order (paper 1000; small 500)"},
            {"weight_mlm", "weight of the masked-bin cross-entropy (paper 1.0)"},
            {"weight_continuous", "weight of the masked-value MSE (paper 0.1)"},
            {"weight_adversarial", "weight of the study classifier behind gradient reversal (paper 0.1)"},
            {"weight_ecs", "weight of the ECS loss on CLS embeddings (paper 0.1)"},
            {"grl_lambda", "gradient-reversal factor (default 1.0)"},
            {"ecs_margin", "ECS margin tau between different cell types (default 1.0; not given in the paper)"},
            {"classifier_hidden", "fine-tuning head hidden width on CLS (default 512)"},
            {"mask_fraction", "share of expressed genes masked in pre-training (default 0.15)"},
            {"fused_kernels", "dropout + residual add + LayerNorm, and GELU + dropout, each in one pass (CPU loops, "
                              "CUDA kernels) instead of torch's separate ops; the same network (default true)"}};
  }
  TokenizerSpec tokenizerSpec(const nlohmann::json& config) const override {
    auto c = configFromJson(config, BioFormerConfig{}, "bioformer");
    TokenizerSpec spec;
    spec.kind = "bioformer";
    spec.genes = GeneSelection::HighlyVariable;
    spec.nHighlyVariable = c.n_hvg;
    spec.values = ValueSource::RawCounts;  // bins from per-cell quantiles of raw counts
    spec.binning = Binning::CellQuantile;
    spec.nBins = c.n_bins;
    spec.maskBin = c.n_bins;
    spec.padBin = c.n_bins + 1;
    spec.prependCls = true;
    spec.maskFraction = c.mask_fraction;
    spec.maskReplaceFraction = 1.0;
    return spec;
  }
  std::shared_ptr<CellModel> makeModel(const nlohmann::json& config, const ModelShape& shape) const override {
    return std::make_shared<BioFormerModel>(normalizeConfig(config), shape);
  }
};

}  // namespace

torch::Tensor gradientReversal(const torch::Tensor& x, double lambda) { return GradReverse::apply(x, lambda); }

torch::Tensor ecsLoss(const torch::Tensor& embeddings, const torch::Tensor& labels, double margin) {
  auto known = labels.ge(0);
  auto h = embeddings.index({known});
  auto y = labels.index({known});
  const int64_t n = h.size(0);
  if (n < 2) return embeddings.sum() * 0.0;
  auto diff = h.unsqueeze(1) - h.unsqueeze(0);
  auto squared = diff.pow(2).sum(-1);                     // d², smooth at d = 0
  auto distance = squared.clamp_min(1e-12).sqrt();        // no NaN gradient on the diagonal
  auto same = y.unsqueeze(1).eq(y.unsqueeze(0)).to(h.scalar_type());
  auto hinge = torch::relu(margin - distance).pow(2);
  return (same * squared + (1 - same) * hinge).sum() / static_cast<double>(n * n);
}

std::shared_ptr<ModelPlugin> makeBioFormerPlugin() { return std::make_shared<BioFormerPlugin>(); }

}  // namespace cw::plugins
