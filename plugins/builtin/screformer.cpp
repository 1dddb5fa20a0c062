// scReformer-BERT: BERT over every gene of the vocabulary (one token per gene, fixed order)
// with a Reformer encoder: LSH attention with shared QK, reversible residual layers and
// chunked feed-forward. Token = gene embedding (gene2vec-initialisable) + expression-bin
// embedding + sinusoidal position. `encoder: full` swaps LSH for fused full attention.
#include "screformer.h"

#include "cellwright/plugins/builtin.h"
#include "cellwright/plugins/config_fields.h"
#include "cellwright/plugins/model_support.h"
#include "layers.h"

namespace cw::plugins {

namespace {

using cw::tokenize::TokenBatch;

void checkConfig(const ScReformerConfig& c) {
  if (c.dim <= 0 || c.layers <= 0 || c.heads <= 0 || c.dim_head <= 0 || c.ff_mult <= 0 || c.ff_chunks <= 0 ||
      c.bucket_size <= 0 || c.n_hashes <= 0 || c.n_bins < 2 || c.head_hidden1 <= 0 || c.head_hidden2 <= 0)
    throw cw::Error("scReformer-BERT sizes must be positive");
  if (c.n_hvg < 0) throw cw::Error("scReformer-BERT 'n_hvg' must be 0 (every gene) or positive");
  if (c.encoder != "lsh" && c.encoder != "full") throw cw::Error("scReformer-BERT 'encoder' must be lsh or full");
  if (c.dim % 2 != 0) throw cw::Error("scReformer-BERT 'dim' must be even (sinusoidal positions)");
  if (c.dropout < 0 || c.dropout >= 1 || c.head_dropout < 0 || c.head_dropout >= 1)
    throw cw::Error("scReformer-BERT dropout must be in [0, 1)");
}

// Computed where the model runs (no host-to-device copy per step).
torch::Tensor sinusoidalPositions(int64_t length, int64_t dim, const torch::TensorOptions& options) {
  const auto f32 = options.dtype(torch::kFloat);
  auto position = torch::arange(length, f32).unsqueeze(1);
  auto frequency = torch::exp(torch::arange(0, dim, 2, f32) * (-std::log(10000.0) / static_cast<double>(dim)));
  auto table = torch::zeros({length, dim}, f32);
  table.index_put_({torch::indexing::Slice(), torch::indexing::Slice(0, torch::indexing::None, 2)},
                   torch::sin(position * frequency));
  table.index_put_({torch::indexing::Slice(), torch::indexing::Slice(1, torch::indexing::None, 2)},
                   torch::cos(position * frequency));
  return table.to(options);
}

class ScReformerModel : public CellModel {
 public:
  ScReformerModel(const nlohmann::json& json, const ModelShape& shape)
      : CellModel("screformer", json, shape), c_(configFromJson(json, ScReformerConfig{}, "screformer")) {
    checkConfig(c_);
    if (shape.vocabSize <= 1) throw cw::Error("The scReformer-BERT model needs a gene vocabulary");
    genes_ = register_module("gene_embedding",
                             torch::nn::Embedding(torch::nn::EmbeddingOptions(shape.vocabSize, c_.dim).padding_idx(0)));
    bins_ = register_module("bin_embedding", torch::nn::Embedding(c_.n_bins, c_.dim));
    stack_ = register_module("encoder", ReversibleStack(c_));
    norm_ = register_module("norm", torch::nn::LayerNorm(torch::nn::LayerNormOptions({c_.dim})));
    mlm_ = register_module("mlm_head", torch::nn::Linear(c_.dim, c_.n_bins));
    if (shape.nClasses > 0) {
      if (shape.nGenes <= 0) throw cw::Error("The scReformer-BERT classifier needs the number of genes");
      perGene_ = register_module("classifier_per_gene", torch::nn::Linear(c_.dim, 1));
      head1_ = register_module("classifier1", torch::nn::Linear(shape.nGenes, c_.head_hidden1));
      head2_ = register_module("classifier2", torch::nn::Linear(c_.head_hidden1, c_.head_hidden2));
      head3_ = register_module("classifier3", torch::nn::Linear(c_.head_hidden2, shape.nClasses));
    }
  }

  std::vector<std::string> pretrainObjectives() const override { return {"mlm"}; }

  PretrainLosses pretrainLosses(const TokenBatch& batch) override {
    const auto& masked = requireField(batch.maskedPositions, "maskedPositions", 2, pluginName());
    const auto& targets = requireField(batch.targetBins, "targetBins", 2, pluginName());
    auto hidden = encode(batch, nullptr);
    auto selected = hidden.index({masked});
    if (selected.size(0) == 0) throw cw::Error("scReformer-BERT pre-training batch has no masked genes");
    auto loss = torch::nn::functional::cross_entropy(mlm_(selected).to(torch::kFloat), targets.index({masked}));
    PretrainLosses out;
    out.parts["mlm"] = loss;
    out.weights["mlm"] = 1.0;
    out.total = loss;
    return out;
  }

  torch::Tensor classify(const TokenBatch& batch) override {
    requireClasses(shape(), pluginName());
    auto hidden = encode(batch, nullptr);
    if (hidden.size(1) < shape().nGenes)
      throw cw::Error("scReformer-BERT was built for " + std::to_string(shape().nGenes) + " genes, the input has " +
                      std::to_string(hidden.size(1)));
    auto genes = hidden.narrow(1, 0, shape().nGenes);
    auto x = torch::relu(perGene_(genes).squeeze(-1));  // shared 200 -> 1 per gene, flattened
    x = torch::dropout(torch::relu(head1_(x)), c_.head_dropout, is_training());
    x = torch::dropout(torch::relu(head2_(x)), c_.head_dropout, is_training());
    return head3_(x);
  }

  // Mean of the final gene states over the real (non-padding) genes.
  torch::Tensor embed(const TokenBatch& batch) override {
    auto hidden = encode(batch, nullptr);
    return layers::maskedMean(hidden, paddingOf(batch).narrow(1, 0, hidden.size(1)));
  }
  int64_t embeddingDim() const override { return c_.dim; }

  // Last layer: attention mass each gene receives from all genes (over buckets and hash
  // rounds for LSH), mean over heads, normalised per cell.
  AttentionScores attention(const TokenBatch& batch) override {
    torch::Tensor received;
    encode(batch, &received);
    auto padding = paddingOf(batch);
    received = received.narrow(1, 0, padding.size(1)).masked_fill(padding, 0.0);
    received = received / received.sum(1, true).clamp_min(1e-12);
    return {received.unsqueeze(1), c_.encoder == "lsh" ? "genes (LSH buckets, mean over rounds and heads)"
                                                       : "genes (mean over heads)"};
  }

  bool acceptsGeneEmbeddings() const override { return true; }
  void setGeneEmbeddings(const torch::Tensor& table, bool freeze) override {
    torch::NoGradGuard noGrad;
    if (table.sizes() != genes_->weight.sizes())
      throw cw::Error("Gene embedding table has shape " + c10::str(table.sizes()) + ", scReformer-BERT needs " +
                      c10::str(genes_->weight.sizes()) + " (vocabulary x 200 for gene2vec)");
    genes_->weight.copy_(table);
    genes_->weight[0].zero_();
    genes_->weight.set_requires_grad(!freeze);
  }
  std::vector<torch::Tensor> classifierParameters() override {
    std::vector<torch::Tensor> out;
    for (auto* m : {&perGene_, &head1_, &head2_, &head3_})
      if (*m) for (auto& p : (*m)->parameters()) out.push_back(p);
    return out;
  }

 private:
  torch::Tensor paddingOf(const TokenBatch& batch) const {
    const auto& ids = requireField(batch.geneIds, "geneIds", 2, pluginName());
    return batch.paddingMask.defined() ? batch.paddingMask : ids.eq(0);
  }

  // Final states [B, L, dim] for the batch's L tokens (LSH pads internally to 2 x bucket).
  torch::Tensor encode(const TokenBatch& batch, torch::Tensor* lastReceived) {
    const auto& ids = requireField(batch.geneIds, "geneIds", 2, pluginName());
    const auto& bins = requireField(batch.bins, "bins", 2, pluginName());
    auto padding = paddingOf(batch);
    const int64_t l = ids.size(1);
    auto x = genes_(ids) + bins_(bins.clamp(0, c_.n_bins - 1));
    x = x + sinusoidalPositions(l, c_.dim, x.options()).unsqueeze(0);
    if (c_.encoder == "lsh") {
      const int64_t multiple = 2 * c_.bucket_size;
      const int64_t extra = (multiple - l % multiple) % multiple;
      if (extra > 0) {
        x = torch::constant_pad_nd(x, {0, 0, 0, extra});
        padding = torch::constant_pad_nd(padding, {0, extra}, 1);
      }
    }
    const torch::Tensor mask = padding.any().item<bool>() ? padding : torch::Tensor();
    auto hidden = norm_(stack_(x, mask, c_.reversible, lastReceived));
    return hidden.narrow(1, 0, l);
  }

  ScReformerConfig c_;
  torch::nn::Embedding genes_{nullptr}, bins_{nullptr};
  ReversibleStack stack_{nullptr};
  torch::nn::LayerNorm norm_{nullptr};
  torch::nn::Linear mlm_{nullptr}, perGene_{nullptr}, head1_{nullptr}, head2_{nullptr}, head3_{nullptr};
};

class ScReformerPlugin : public ModelPlugin {
 public:
  PluginMetadata metadata() const override {
    PluginMetadata m;
    m.name = "screformer";
    m.version = "1.0.0";
    m.description = "scReformer-BERT: BERT with a Reformer encoder (LSH attention, reversible layers) over all genes";
    m.citation = "scReformer-BERT: a Reformer-based BERT for cell-type annotation of single-cell RNA-seq data";
    return m;
  }
  nlohmann::json defaultConfig(const std::string& preset) const override {
    requirePreset(preset, "screformer");
    ScReformerConfig c;
    if (preset == "small") {
      c.dim = 32;
      c.layers = 2;
      c.heads = 2;
      c.dim_head = 16;
      c.ff_chunks = 2;
      c.bucket_size = 16;
      c.n_hashes = 2;
      c.head_hidden1 = 64;
      c.head_hidden2 = 32;
    }
    return configToJson(c);
  }
  nlohmann::json normalizeConfig(const nlohmann::json& config) const override {
    auto c = configFromJson(config, ScReformerConfig{}, "screformer");
    checkConfig(c);
    return configToJson(c);
  }
  std::map<std::string, std::string> configDocumentation() const override {
    return {{"dim", "token width; 200 matches gene2vec (paper 200; small 32)"},
            {"layers", "reversible layers (paper 6; small 2)"},
            {"heads", "attention heads (paper 10; small 2)"},
            {"dim_head", "width per head (paper/reference 64; small 16)"},
            {"ff_mult", "feed-forward expansion (paper 4)"},
            {"ff_chunks", "feed-forward evaluated in this many sequence chunks (default 10)"},
            {"encoder", "lsh (Reformer LSH attention, paper) or full (fused full attention)"},
            {"bucket_size", "LSH bucket/chunk size (paper 64; small 16)"},
            {"n_hashes", "LSH hash rounds (paper 4-8, default 4; small 2)"},
            {"dedup_rounds", "a key met by a query in several hash rounds counts once (Reformer paper; default true; "
                             "false = reformer_pytorch's default)"},
            {"recompute_scores", "LSH attention keeps q, k, v and the log-sum-exp for backward and recomputes the "
                                 "chunk scores there, in blocks of bounded size (default true; false = plain autograd, "
                                 "which stores scores and probabilities, for comparison)"},
            {"fused_kernels", "LSH attention in fused loops (CPU) or kernels (CUDA) that read q, k and v by "
                              "position, with no sorted copies or score tensors (default true; false = the torch "
                              "formulation, for comparison; recompute_scores applies to that one)"},
            {"hash_seed", "seed of the LSH rotations (inference is deterministic)"},
            {"reversible", "reversible residual layers recomputing activations in backward (default true)"},
            {"dropout", "dropout in attention output and feed-forward (default 0)"},
            {"n_bins", "expression bins incl. MASK/PAD: 0..5 and 6 (default 7)"},
            {"clip_value", "log value clipped here before truncation to a bin (default 5)"},
            {"log2", "bins from log2 instead of natural log (scBERT used log2)"},
            {"head_hidden1", "classifier MLP first layer (paper 512)"},
            {"head_hidden2", "classifier MLP second layer (paper 128)"},
            {"head_dropout", "classifier MLP dropout (default 0.1)"},
            {"mask_fraction", "share of expressed genes masked in pre-training (paper 0.15)"},
            {"n_hvg", "0 (default, paper): every gene; N: only the N highly variable genes (the paper's 3,000-HVG "
                      "ablation; makes CPU runs affordable)"},
            {"mask_replace_fraction", "of the masked genes, share replaced by MASK, rest unchanged (paper 0.9)"}};
  }
  TokenizerSpec tokenizerSpec(const nlohmann::json& config) const override {
    auto c = configFromJson(config, ScReformerConfig{}, "screformer");
    TokenizerSpec spec;
    spec.kind = "scbert";
    spec.genes = c.n_hvg > 0 ? GeneSelection::HighlyVariable : GeneSelection::All;
    spec.nHighlyVariable = c.n_hvg;
    spec.values = ValueSource::LogNormalized;
    spec.log2 = c.log2;
    spec.binning = Binning::ClipFloor;
    spec.nBins = c.n_bins;
    spec.clipValue = c.clip_value;
    spec.maskBin = c.n_bins - 1;
    spec.padBin = c.n_bins - 1;
    spec.padToMultipleOf = c.encoder == "lsh" ? 2 * c.bucket_size : 1;
    spec.maskFraction = c.mask_fraction;
    spec.maskReplaceFraction = c.mask_replace_fraction;
    return spec;
  }
  std::shared_ptr<CellModel> makeModel(const nlohmann::json& config, const ModelShape& shape) const override {
    return std::make_shared<ScReformerModel>(normalizeConfig(config), shape);
  }
};

}  // namespace

std::shared_ptr<ModelPlugin> makeScReformerPlugin() { return std::make_shared<ScReformerPlugin>(); }

}  // namespace cw::plugins
