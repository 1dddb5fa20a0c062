// CellPatch (Zhao et al.): 64 learned patch tokens cross-attend over a cell's expressed genes,
// then self-attention over the patches. Pre-training reconstructs held-out gene values with
// a decoder whose queries are the gene embeddings. Unlike the public code, padding genes are
// masked out of the cross-attention (docs/models.md).
#include "cellwright/plugins/builtin.h"
#include "cellwright/plugins/config_fields.h"
#include "cellwright/plugins/model_support.h"
#include "cellpatch.h"
#include "layers.h"

namespace cw::plugins {

namespace {

using cw::tokenize::TokenBatch;

void checkConfig(const CellPatchConfig& c) {
  auto positive = [](int64_t v, const char* name) {
    if (v <= 0) throw cw::Error(std::string("CellPatch '") + name + "' must be positive");
  };
  positive(c.dim, "dim");
  positive(c.patches, "patches");
  positive(c.heads, "heads");
  positive(c.ff_hidden, "ff_hidden");
  positive(c.cross_blocks, "cross_blocks");
  positive(c.max_genes, "max_genes");
  if (c.dim % c.heads != 0) throw cw::Error("CellPatch 'dim' must be divisible by 'heads'");
  if (c.gene_init != "random" && c.gene_init != "pca") throw cw::Error("CellPatch 'gene_init' must be random or pca");
  if (c.n_hvg < 0) throw cw::Error("CellPatch 'n_hvg' cannot be negative");
  if (c.self_blocks < 0 || c.decoder_self_blocks < 0 || c.projection < 0)
    throw cw::Error("CellPatch block counts and 'projection' cannot be negative");
  if (c.count_encoding != "linear" && c.count_encoding != "lookup" && c.count_encoding != "scaled")
    throw cw::Error("CellPatch 'count_encoding' must be linear, lookup or scaled");
  if (c.head_pooling != "flatten" && c.head_pooling != "mean")
    throw cw::Error("CellPatch 'head_pooling' must be flatten or mean");
  if (c.patch_init_std <= 0 || c.gene_init_std <= 0)
    throw cw::Error("CellPatch 'patch_init_std' and 'gene_init_std' must be positive");
  if (c.dropout < 0 || c.dropout >= 1 || c.head_dropout < 0 || c.head_dropout >= 1 || c.gene_dropout < 0 ||
      c.gene_dropout >= 1)
    throw cw::Error("CellPatch dropout must be in [0, 1)");
}

class CellPatchModel : public CellModel {
 public:
  CellPatchModel(const nlohmann::json& json, const ModelShape& shape)
      : CellModel("cellpatch", json, shape), c_(configFromJson(json, CellPatchConfig{}, "cellpatch")) {
    checkConfig(c_);
    if (shape.vocabSize <= 1) throw cw::Error("The CellPatch model needs a gene vocabulary");
    genes_ = register_module("gene_embedding",
                             torch::nn::Embedding(torch::nn::EmbeddingOptions(shape.vocabSize, c_.dim).padding_idx(0)));
    if (c_.gene_init_std != 1.0) {
      // Gene embeddings start at this scale (torch's default is N(0, 1)): a small start lets
      // Adam's fixed-size steps reshape them within a short fine-tuning run.
      torch::NoGradGuard noGrad;
      genes_->weight.normal_(0.0, c_.gene_init_std);
      genes_->weight[0].zero_();
    }
    if (c_.count_encoding == "lookup")
      countLookup_ = register_module("count_embedding", torch::nn::Embedding(c_.count_bins + 1, c_.dim));
    else
      countLinear_ = register_module("count_projection", torch::nn::Linear(1, c_.dim));
    patchTokens_ = register_parameter("patch_tokens", torch::randn({c_.patches, c_.dim}) * c_.patch_init_std);
    for (int64_t i = 0; i < c_.cross_blocks; ++i)
      cross_.push_back(register_module("cross" + std::to_string(i),
                                       layers::TransformerBlock(c_.dim, c_.heads, c_.ff_hidden, c_.dropout)));
    for (int64_t i = 0; i < c_.self_blocks; ++i)
      self_.push_back(register_module("self" + std::to_string(i),
                                      layers::TransformerBlock(c_.dim, c_.heads, c_.ff_hidden, c_.dropout)));
    if (c_.projection > 0) {
      project_ = register_module("projection", torch::nn::Linear(c_.dim, c_.projection));
      unproject_ = register_module("decoder_unprojection", torch::nn::Linear(c_.projection, c_.dim));
    }
    decoderCross_ = register_module("decoder_cross", layers::TransformerBlock(c_.dim, c_.heads, c_.ff_hidden, c_.dropout));
    for (int64_t i = 0; i < c_.decoder_self_blocks; ++i)
      decoderSelf_.push_back(register_module("decoder_self" + std::to_string(i),
                                             layers::TransformerBlock(c_.dim, c_.heads, c_.ff_hidden, c_.dropout)));
    decoderOut_ = register_module("decoder_out", torch::nn::Linear(c_.dim, 1));
    if (shape.nClasses > 0) {
      const int64_t headInput = c_.head_pooling == "mean" ? c_.dim : c_.patches * c_.dim;
      head1_ = register_module("head1", torch::nn::Linear(headInput, c_.head_hidden1));
      head2_ = register_module("head2", torch::nn::Linear(c_.head_hidden1, c_.head_hidden2));
      head3_ = register_module("head3", torch::nn::Linear(c_.head_hidden2, shape.nClasses));
    }
  }

  std::vector<std::string> pretrainObjectives() const override { return {"reconstruction"}; }

  PretrainLosses pretrainLosses(const TokenBatch& batch) override {
    const auto& ids = requireField(batch.decoderGeneIds, "decoderGeneIds", 2, pluginName());
    const auto& targets = requireField(batch.decoderTargets, "decoderTargets", 2, pluginName());
    auto patches = encode(batch, nullptr);
    auto memory = c_.projection > 0 ? unproject_(project_(patches)) : patches;
    auto padding = batch.decoderPaddingMask.defined() ? batch.decoderPaddingMask : ids.eq(0);
    auto x = decoderCross_(genes_(ids), memory);
    for (auto& block : decoderSelf_) x = block(x, torch::Tensor(), padding);
    auto predicted = decoderOut_(x).squeeze(-1).to(torch::kFloat);
    auto keep = padding.logical_not();
    auto loss = (predicted - targets.to(torch::kFloat)).pow(2).masked_select(keep).mean();
    PretrainLosses out;
    out.parts["reconstruction"] = loss;
    out.weights["reconstruction"] = 1.0;
    out.total = loss;
    return out;
  }

  torch::Tensor classify(const TokenBatch& batch) override {
    requireClasses(shape(), pluginName());
    auto patches = encode(batch, nullptr);
    auto flat = c_.head_pooling == "mean" ? patches.mean(1) : patches.flatten(1);
    auto h = torch::dropout(torch::relu(head1_(flat)), c_.head_dropout, is_training());
    h = torch::dropout(torch::relu(head2_(h)), c_.head_dropout, is_training());
    return head3_(h);
  }

  // Mean of the patch features (the projected ones when the projection is on).
  torch::Tensor embed(const TokenBatch& batch) override {
    auto patches = encode(batch, nullptr);
    return (c_.projection > 0 ? project_(patches) : patches).mean(1);
  }
  int64_t embeddingDim() const override { return c_.projection > 0 ? c_.projection : c_.dim; }

  // First cross-attention: each patch's weights over the cell's genes, mean over heads.
  AttentionScores attention(const TokenBatch& batch) override {
    torch::Tensor weights;
    encode(batch, &weights);
    return {weights.mean(1), "patches"};
  }

  bool acceptsGeneEmbeddings() const override { return true; }
  void setGeneEmbeddings(const torch::Tensor& table, bool freeze) override {
    torch::NoGradGuard noGrad;
    if (table.sizes() != genes_->weight.sizes())
      throw cw::Error("Gene embedding table has shape " + c10::str(table.sizes()) + ", CellPatch needs " +
                      c10::str(genes_->weight.sizes()));
    genes_->weight.copy_(table);
    genes_->weight[0].zero_();
    genes_->weight.set_requires_grad(!freeze);
  }

  std::vector<torch::Tensor> classifierParameters() override {
    std::vector<torch::Tensor> out;
    for (auto* m : {&head1_, &head2_, &head3_})
      if (*m) for (auto& p : (*m)->parameters()) out.push_back(p);
    return out;
  }

 private:
  // Patch features [B, patches, dim]; `firstWeights` receives the first cross-attention's
  // probabilities [B, heads, patches, L].
  torch::Tensor encode(const TokenBatch& batch, torch::Tensor* firstWeights) {
    const auto& ids = requireField(batch.geneIds, "geneIds", 2, pluginName());
    auto padding = batch.paddingMask.defined() ? batch.paddingMask : ids.eq(0);
    if (is_training() && c_.gene_dropout > 0) {
      // Augmentation: each expressed gene is hidden from the encoder with this probability
      // (a cell keeps its genes when all would go), so the head cannot lean on a few genes.
      auto dropped = padding.logical_or(torch::rand(padding.sizes(), torch::kFloat).to(padding.device()) < c_.gene_dropout);
      auto keepsSome = dropped.logical_not().any(1, true);
      padding = torch::where(keepsSome, dropped, padding);
    }
    torch::Tensor counts;
    if (countLookup_) {
      // The lookup takes the value bin; without bins, the (clipped) value rounded.
      torch::Tensor bins = batch.bins;
      if (!bins.defined())
        bins = torch::round(requireField(batch.values, "values", 2, pluginName()).to(torch::kFloat)).to(torch::kLong);
      counts = countLookup_(bins.clamp(0, c_.count_bins));
    } else {
      const auto& values = requireField(batch.values, "values", 2, pluginName());
      counts = countLinear_(values.to(genes_->weight.scalar_type()).unsqueeze(-1));
    }
    auto tokens = genes_(ids);
    // "scaled": the gene embedding also scales with the value, so a cell's tokens carry how
    // much of each gene it expresses, not only which genes.
    if (c_.count_encoding == "scaled") tokens = tokens * batch.values.to(tokens.scalar_type()).unsqueeze(-1);
    tokens = tokens + counts;
    auto x = patchTokens_.unsqueeze(0).expand({ids.size(0), c_.patches, c_.dim});
    for (size_t i = 0; i < cross_.size(); ++i) x = cross_[i](x, tokens, padding, i == 0 ? firstWeights : nullptr);
    for (auto& block : self_) x = block(x);
    return x;
  }

  CellPatchConfig c_;
  torch::nn::Embedding genes_{nullptr}, countLookup_{nullptr};
  torch::nn::Linear countLinear_{nullptr};
  torch::Tensor patchTokens_;
  std::vector<layers::TransformerBlock> cross_, self_, decoderSelf_;
  torch::nn::Linear project_{nullptr}, unproject_{nullptr};
  layers::TransformerBlock decoderCross_{nullptr};
  torch::nn::Linear decoderOut_{nullptr}, head1_{nullptr}, head2_{nullptr}, head3_{nullptr};
};

class CellPatchPlugin : public ModelPlugin {
 public:
  PluginMetadata metadata() const override {
    PluginMetadata m;
    m.name = "cellpatch";
    m.version = "1.0.0";
    m.description = "CellPatch: patch tokens cross-attending over expressed genes";
    m.citation = "Zhao et al., CellPatch: a highly efficient foundation model for single-cell transcriptomics "
                 "with heuristic patching";
    return m;
  }
  nlohmann::json defaultConfig(const std::string& preset) const override {
    requirePreset(preset, "cellpatch");
    CellPatchConfig c;
    if (preset == "small") {
      c.patches = 16;
      c.dim = 16;
      c.ff_hidden = 32;
      c.self_blocks = 1;
      c.projection = 4;
      c.head_hidden1 = 64;
      c.head_hidden2 = 32;
      c.max_genes = 1000;
      c.max_decoder_genes = 300;
      // Fine-tuning from scratch on a few thousand cells (docs/models.md, CellPatch): the
      // value scales each gene's embedding, embeddings start small enough to move, the
      // vocabulary is the 2,000 most variable genes, and genes are dropped at random.
      c.count_encoding = "scaled";
      c.gene_init_std = 0.1;
      c.n_hvg = 2000;
      c.gene_dropout = 0.3;
    }
    return configToJson(c);
  }
  nlohmann::json normalizeConfig(const nlohmann::json& config) const override {
    auto c = configFromJson(config, CellPatchConfig{}, "cellpatch");
    checkConfig(c);
    return configToJson(c);
  }
  std::map<std::string, std::string> configDocumentation() const override {
    return {{"dim", "token and patch width (paper 32)"},
            {"patches", "number of learned patch tokens (paper 64; small 16)"},
            {"heads", "attention heads (paper 2)"},
            {"ff_hidden", "feed-forward hidden width of every block (paper 64)"},
            {"cross_blocks", "cross-attention blocks, patches query genes (paper 1)"},
            {"self_blocks", "self-attention blocks over patches (paper 2; small 1)"},
            {"projection", "encoder output projection width, 0 = none (paper 10)"},
            {"decoder_self_blocks", "self-attention blocks in the reconstruction decoder (paper 1)"},
            {"dropout", "dropout inside the attention blocks (default 0.1)"},
            {"count_encoding", "linear: Linear(1->dim) on the value (reference code); lookup: embedding of "
                               "the clipped, rounded value (paper text); scaled: linear plus the gene "
                               "embedding multiplied by the value"},
            {"count_bins", "largest value bin for the lookup encoding (paper: clip at 5)"},
            {"head_hidden1", "classification head first layer (paper 512)"},
            {"head_hidden2", "classification head second layer (paper 100)"},
            {"head_dropout", "dropout after each hidden head layer (default 0.1)"},
            {"head_pooling", "classification head input: flatten (paper: all patches) or mean of the patches"},
            {"patch_init_std", "standard deviation of the learned patch tokens at initialisation"},
            {"gene_init_std", "standard deviation of the gene embeddings at initialisation"},
            {"gene_init", "random, or pca: fine-tuning from scratch starts the gene embeddings at the training "
                          "cells' PCA loadings (scaled to gene_init_std)"},
            {"gene_dropout", "training only: share of a cell's expressed genes hidden from the encoder (augmentation)"},
            {"max_genes", "most expressed genes per cell fed to the encoder (paper 3000)"},
            {"n_hvg", "restrict the gene vocabulary to this many highly variable genes (0 = every gene, paper)"},
            {"held_out_fraction", "share of expressed genes held out and reconstructed (paper 0.3)"},
            {"zero_target_ratio", "zero genes added as decoder targets, relative to the held-out count (0.5)"},
            {"max_decoder_genes", "cap on decoder target genes per cell (paper 1000)"}};
  }
  TokenizerSpec tokenizerSpec(const nlohmann::json& config) const override {
    auto c = configFromJson(config, CellPatchConfig{}, "cellpatch");
    TokenizerSpec spec;
    spec.kind = "cellpatch";
    // The tokens are always the cell's expressed genes; n_hvg > 0 first narrows the gene
    // vocabulary to that many highly variable genes of the training cells.
    spec.genes = c.n_hvg > 0 ? GeneSelection::HighlyVariable : GeneSelection::NonZero;
    spec.nHighlyVariable = c.n_hvg;
    spec.maxTokens = c.max_genes;
    spec.values = ValueSource::LogNormalized;
    spec.binning = c.count_encoding == "lookup" ? Binning::ClipRound : Binning::None;
    spec.nBins = c.count_encoding == "lookup" ? c.count_bins + 1 : 0;
    spec.clipValue = static_cast<double>(c.count_bins);
    spec.maskFraction = 0.0;
    spec.heldOutFraction = c.held_out_fraction;
    spec.zeroTargetRatio = c.zero_target_ratio;
    spec.maxDecoderGenes = c.max_decoder_genes;
    return spec;
  }
  std::shared_ptr<CellModel> makeModel(const nlohmann::json& config, const ModelShape& shape) const override {
    return std::make_shared<CellPatchModel>(normalizeConfig(config), shape);
  }
};

}  // namespace

std::shared_ptr<ModelPlugin> makeCellPatchPlugin() { return std::make_shared<CellPatchPlugin>(); }

}  // namespace cw::plugins
