#!/usr/bin/python3
"""scanpy's standard chain written out in numpy/scipy/umap-learn/leidenalg (scanpy itself is not
installed), as scanpy 1.9 runs it with its defaults:

    normalize_total(1e4) -> log1p -> highly_variable_genes(flavor seurat, n_top_genes N)
    -> pca(50, HVGs, arpack with implicit centring) -> neighbors(15, umap) -> umap(min_dist 0.5)
    -> leiden(resolution 1)

    chain_reference.py IN.h5ad OUT.json [--hvg 2000]

Writes per-step wall and CPU seconds, and the clustering for comparison, to OUT.json. Run it
under /usr/bin/time -v for the peak memory. umap-learn's numba functions are compiled by a
warm-up on 2,000 random points first (not timed).
"""
import argparse
import json
import time

import anndata
import igraph as ig
import leidenalg
import numpy as np
import pandas as pd
import umap.umap_ as umap_
from scipy import sparse
from scipy.sparse.linalg import LinearOperator, svds
from sklearn.utils import check_random_state

parser = argparse.ArgumentParser()
parser.add_argument("input")
parser.add_argument("output")
parser.add_argument("--hvg", type=int, default=2000)
args = parser.parse_args()

# numba compilation (pynndescent, fuzzy set, layout) outside the timings, on 2,000 random points.
_warm = np.random.default_rng(0).normal(size=(2000, 50)).astype(np.float32)
_i, _d, _ = umap_.nearest_neighbors(_warm, 15, "euclidean", {}, False, check_random_state(0))
_g, _, _ = umap_.fuzzy_simplicial_set(_warm, 15, check_random_state(0), "euclidean", knn_indices=_i, knn_dists=_d)
umap_.simplicial_set_embedding(_warm, _g.tocsr(), 2, 1.0, 1.0, 1.0, 1.0, 5, 10, "spectral", check_random_state(0),
                               "euclidean", {}, False, {}, False)

steps = {}


class step:
    def __init__(self, name):
        self.name = name

    def __enter__(self):
        self.t0, self.c0 = time.perf_counter(), time.process_time()

    def __exit__(self, *exc):
        steps[self.name] = {"wall_s": time.perf_counter() - self.t0, "cpu_s": time.process_time() - self.c0}


with step("read"):
    adata = anndata.read_h5ad(args.input)
    x = sparse.csr_matrix(adata.X, dtype=np.float32)

with step("normalise_log1p"):
    # normalize_total: each cell to 1e4 counts; log1p in place on the stored values.
    totals = np.asarray(x.sum(axis=1)).ravel()
    scale = np.divide(1e4, totals, out=np.zeros_like(totals), where=totals > 0)
    x.data *= np.repeat(scale, np.diff(x.indptr)).astype(np.float32)
    np.log1p(x.data, out=x.data)

with step("hvg"):
    # highly_variable_genes(flavor="seurat"): dispersions of expm1(X), normalised within 20
    # bins of mean expression; the top n by normalised dispersion.
    e = x.copy()
    np.expm1(e.data, out=e.data)
    mean = np.asarray(e.mean(axis=0), dtype=np.float64).ravel()
    mean_sq = np.asarray(e.multiply(e).mean(axis=0), dtype=np.float64).ravel()
    var = (mean_sq - mean ** 2) * (x.shape[0] / (x.shape[0] - 1))
    del e
    mean[mean == 0] = 1e-12
    dispersion = var / mean
    dispersion[dispersion == 0] = np.nan
    dispersion = np.log(dispersion)
    mean = np.log1p(mean)
    df = pd.DataFrame({"means": mean, "dispersions": dispersion})
    df["mean_bin"] = pd.cut(df["means"], bins=20)
    grouped = df.groupby("mean_bin")["dispersions"]
    bin_mean, bin_std = grouped.mean(), grouped.std(ddof=1)
    one_gene = bin_std.isnull()
    bin_std[one_gene] = bin_mean[one_gene]
    bin_mean[one_gene] = 0
    df["dispersions_norm"] = (df["dispersions"].values - bin_mean[df["mean_bin"]].values) / bin_std[df["mean_bin"]].values
    norm = df["dispersions_norm"].values.astype(np.float64)
    ranked = np.sort(norm[~np.isnan(norm)])[::-1]
    cutoff = ranked[args.hvg - 1]
    highly_variable = np.nan_to_num(norm) >= cutoff

with step("pca"):
    # pca(n_comps=50) on the HVGs of a sparse matrix: arpack on an implicitly centred operator.
    xh = x[:, highly_variable].astype(np.float64)
    mu = np.asarray(xh.mean(axis=0)).ravel()
    ones = np.ones(xh.shape[0])
    xt = xh.T.tocsr()
    op = LinearOperator(shape=xh.shape, dtype=np.float64,
                        matvec=lambda v: xh @ v - mu @ v, rmatvec=lambda v: xt @ v - mu * (ones @ v),
                        matmat=lambda m: xh @ m - ones[:, None] * (mu @ m),
                        rmatmat=lambda m: xt @ m - mu[:, None] * (ones @ m))
    v0 = check_random_state(0).rand(min(xh.shape))
    u, s, vt = svds(op, solver="arpack", k=50, v0=v0)
    order = np.argsort(-s)
    x_pca = (u[:, order] * s[order]).astype(np.float32)

with step("neighbors"):
    knn_indices, knn_dists, _ = umap_.nearest_neighbors(x_pca, 15, "euclidean", {}, False, check_random_state(0))
    conn, _, _ = umap_.fuzzy_simplicial_set(x_pca, 15, check_random_state(0), "euclidean",
                                            knn_indices=knn_indices, knn_dists=knn_dists)
    conn = conn.tocsr()

with step("umap"):
    a, b = umap_.find_ab_params(1.0, 0.5)
    embedding, _ = umap_.simplicial_set_embedding(x_pca, conn, 2, 1.0, a, b, 1.0, 5, 0, "spectral",
                                                  check_random_state(0), "euclidean", {}, False, {}, False)

with step("leiden"):
    upper = sparse.triu(conn, k=1).tocoo()
    g = ig.Graph(n=conn.shape[0], edges=np.column_stack([upper.row, upper.col]).tolist(), directed=False)
    g.es["weight"] = upper.data.astype(float).tolist()
    part = leidenalg.find_partition(g, leidenalg.RBConfigurationVertexPartition, weights="weight",
                                    resolution_parameter=1.0, n_iterations=-1, seed=0)
    membership = np.array(part.membership)

total_wall = sum(s["wall_s"] for s in steps.values())
total_cpu = sum(s["cpu_s"] for s in steps.values())
with open(args.output, "w") as f:
    json.dump({"steps": steps, "total_wall_s": total_wall, "total_cpu_s": total_cpu,
               "hvg": int(highly_variable.sum()), "clusters": int(membership.max() + 1),
               "leiden": membership.tolist()}, f)
print(json.dumps({"steps": steps, "total_wall_s": total_wall, "total_cpu_s": total_cpu}, indent=2))
