#!/usr/bin/python3
"""Expected highly-variable-gene tables for tests/engine/preprocess (run once, outputs committed).

An independent re-implementation of scanpy's pp.highly_variable_genes (flavours seurat,
cell_ranger, seurat_v3; scanpy itself is not in Debian) with numpy/pandas, statsmodels'
MAD constant and skmisc's loess, the same calls scanpy makes.

    /usr/bin/python3 tests/reference/hvg_reference.py ../shared/data tests/data/preprocess
"""
import sys
from pathlib import Path

import anndata
import numpy as np
import pandas as pd
import scipy.sparse as sp
from skmisc.loess import loess

MAD_C = 0.6744897501960817  # statsmodels.robust.mad's normal consistency constant


def mean_var(X):
    """scanpy _get_mean_var: float64 mean and unbiased variance per column."""
    X = sp.csr_matrix(X)
    n = X.shape[0]
    mean = np.asarray(X.sum(axis=0, dtype=np.float64)).ravel() / n
    sq = X.copy().astype(np.float64)
    sq.data **= 2
    mean_sq = np.asarray(sq.sum(axis=0)).ravel() / n
    var = (mean_sq - mean**2) * (n / (n - 1))
    return mean, var


def single_batch(X, flavor, n_top_genes, n_bins=20):
    if flavor == "seurat":
        X = X.copy()
        X.data = np.expm1(X.data)
    mean, var = mean_var(X)
    mean[mean == 0] = 1e-12
    dispersion = var / mean
    if flavor == "seurat":
        dispersion[dispersion == 0] = np.nan
        dispersion = np.log(dispersion)
        mean = np.log1p(mean)
    df = pd.DataFrame({"means": mean, "dispersions": dispersion})
    if flavor == "seurat":
        df["mean_bin"] = pd.cut(df["means"], bins=n_bins)
        grouped = df.groupby("mean_bin")["dispersions"]
        bin_mean = grouped.mean()
        bin_std = grouped.std(ddof=1)
        one = bin_std.isnull()
        bin_std[one.values] = bin_mean[one.values].values
        bin_mean[one.values] = 0
        df["dispersions_norm"] = (df["dispersions"].values - bin_mean[df["mean_bin"].values].values) / bin_std[
            df["mean_bin"].values
        ].values
    else:
        edges = np.r_[-np.inf, np.percentile(df["means"], np.arange(10, 105, 5)), np.inf]
        df["mean_bin"] = pd.cut(df["means"], edges)
        grouped = df.groupby("mean_bin")["dispersions"]
        bin_median = grouped.median()
        bin_mad = grouped.apply(lambda a: np.median(np.abs(a - np.median(a)) / MAD_C) if len(a) else np.nan)
        df["dispersions_norm"] = (df["dispersions"].values - bin_median[df["mean_bin"].values].values) / bin_mad[
            df["mean_bin"].values
        ].values
    norm = df["dispersions_norm"].values
    finite = np.sort(norm[~np.isnan(norm)])[::-1]
    cutoff = finite[min(n_top_genes, finite.size) - 1]
    df["highly_variable"] = np.nan_to_num(norm) >= cutoff
    return df.drop(columns="mean_bin")


def dispersion_flavor(X, flavor, n_top_genes, batches=None):
    if batches is None:
        return single_batch(X, flavor, n_top_genes)
    frames = []
    genes = np.arange(X.shape[1])
    for b in pd.unique(batches):
        Xb = X[batches == b]
        expressed = np.asarray((Xb != 0).sum(axis=0)).ravel() >= 1
        hvg = single_batch(Xb[:, expressed], flavor, n_top_genes)
        full = pd.DataFrame(0.0, index=genes, columns=["means", "dispersions", "dispersions_norm"])
        full["highly_variable"] = False
        full.loc[genes[expressed], hvg.columns] = hvg.values
        full["gene"] = genes
        frames.append(full)
    df = pd.concat(frames)
    df["highly_variable"] = df["highly_variable"].astype(int)
    df = df.groupby("gene").agg(
        {"means": np.nanmean, "dispersions": np.nanmean, "dispersions_norm": np.nanmean, "highly_variable": np.nansum}
    )
    df = df.rename(columns={"highly_variable": "highly_variable_nbatches"})
    df = df.sort_values(["highly_variable_nbatches", "dispersions_norm"], ascending=False, na_position="last", kind="stable")
    df["highly_variable"] = np.arange(df.shape[0]) < n_top_genes
    return df.sort_index()


def seurat_v3(X, n_top_genes, batches=None, span=0.3):
    if batches is None:
        batches = np.zeros(X.shape[0], dtype=int)
    norm_vars = []
    for b in np.unique(batches):
        Xb = sp.csr_matrix(X[batches == b]).astype(np.float64)
        mean, var = mean_var(Xb)
        not_const = var > 0
        estimated = np.zeros(X.shape[1])
        model = loess(np.log10(mean[not_const]), np.log10(var[not_const]), span=span, degree=2)
        model.fit()
        estimated[not_const] = model.outputs.fitted_values
        reg_std = np.sqrt(10**estimated)
        n = Xb.shape[0]
        clip = reg_std * np.sqrt(n) + mean
        mask = Xb.data > clip[Xb.indices]
        Xb.data[mask] = clip[Xb.indices[mask]]
        sq_sum = np.asarray(Xb.power(2).sum(axis=0)).ravel()
        s = np.asarray(Xb.sum(axis=0)).ravel()
        norm_vars.append((1 / ((n - 1) * reg_std**2)) * (n * mean**2 + sq_sum - 2 * s * mean))
    norm_vars = np.vstack(norm_vars)
    ranks = np.argsort(np.argsort(-norm_vars, axis=1, kind="stable"), axis=1).astype(np.float32)
    nbatches = np.sum(ranks < n_top_genes, axis=0)
    ranks[ranks >= n_top_genes] = np.nan
    median_rank = np.ma.median(np.ma.masked_invalid(ranks), axis=0).filled(np.nan)
    mean, var = mean_var(X)
    df = pd.DataFrame(
        {
            "means": mean,
            "variances": var,
            "variances_norm": norm_vars.mean(axis=0),
            "highly_variable_rank": median_rank,
            "highly_variable_nbatches": nbatches,
        }
    )
    order = df.sort_values(
        ["highly_variable_rank", "highly_variable_nbatches"], ascending=[True, False], na_position="last", kind="stable"
    ).index
    df["highly_variable"] = False
    df.loc[order[:n_top_genes], "highly_variable"] = True
    return df


def normalize_log(X):
    X = sp.csr_matrix(X, dtype=np.float32, copy=True)
    totals = np.asarray(X.sum(axis=1, dtype=np.float64)).ravel()
    scale = np.divide(1e4, totals, out=np.zeros_like(totals), where=totals > 0)
    X.data = (X.data * np.repeat(scale, np.diff(X.indptr))).astype(np.float32)
    X.data = np.log1p(X.data).astype(np.float32)
    return X


def write(df, names, columns, path):
    out = df[columns].copy()
    out.insert(0, "gene", names)
    out["highly_variable"] = out["highly_variable"].astype(int)
    out.to_csv(path, index=False, float_format="%.10g", compression="gzip")
    print(path, "genes:", len(out), "hvg:", int(out["highly_variable"].sum()))


def loess_fixture(path):
    """skmisc loess (span 0.3, degree 2) on 80 noisy points: surface 'direct' and the default."""
    rng = np.random.default_rng(7)
    x = np.sort(rng.uniform(-2, 3, 80))
    y = np.sin(x) + 0.3 * x**2 + rng.normal(0, 0.2, 80)
    df = pd.DataFrame({"x": x, "y": y})
    for surface in ("direct", "interpolate"):
        model = loess(x, y, span=0.3, degree=2, surface=surface)
        model.fit()
        df[surface] = model.outputs.fitted_values
    df.to_csv(path, index=False, float_format="%.17g", compression="gzip")
    print(path)


def main(data_dir, out_dir):
    data_dir, out_dir = Path(data_dir), Path(out_dir)
    loess_fixture(out_dir / "loess_span03.csv.gz")
    adata = anndata.read_h5ad(data_dir / "pbmc3k_seurat_2638.h5ad")
    counts = sp.csr_matrix(adata.X, dtype=np.float32)
    names = np.asarray(adata.var_names)
    logged = normalize_log(counts)
    disp_cols = ["means", "dispersions", "dispersions_norm", "highly_variable"]
    for flavor in ("seurat", "cell_ranger"):
        write(single_batch(logged, flavor, 2000), names, disp_cols, out_dir / f"pbmc3k_hvg_{flavor}.csv.gz")
    write(seurat_v3(counts, 2000), names, ["means", "variances", "variances_norm", "highly_variable"],
          out_dir / "pbmc3k_hvg_seurat_v3.csv.gz")

    # Batch handling: the two-study PBMC file, batch = study.
    two = anndata.read_h5ad(data_dir / "pbmc_2study_facs_pbmc3k_6512.h5ad")
    two_counts = sp.csr_matrix(two.X, dtype=np.float32)
    batches = np.asarray(two.obs["batch"].cat.codes)
    two_names = np.asarray(two.var_names)
    write(dispersion_flavor(normalize_log(two_counts), "seurat", 1000, batches), two_names,
          ["dispersions_norm", "highly_variable_nbatches", "highly_variable"], out_dir / "pbmc2study_hvg_seurat_batch.csv.gz")
    write(seurat_v3(two_counts, 1000, batches), two_names,
          ["variances_norm", "highly_variable_rank", "highly_variable_nbatches", "highly_variable"],
          out_dir / "pbmc2study_hvg_seurat_v3_batch.csv.gz")


if __name__ == "__main__":
    main(*sys.argv[1:3])
